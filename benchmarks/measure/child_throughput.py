"""Child-training throughput: autosnap's trainer against a plain PyTorch loop.

Same network (SNAPNet with `dup c3 c3 add`), same data, same batch size, same process;
the plain loop is what a user would write by hand (tensors in memory, randperm batches,
AdamW, MSE). Writes benchmarks/results/child_throughput.csv.

    python -m benchmarks run benchmarks/experiments/child_throughput.yaml
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from autosnap.config import from_dict
from autosnap.data.config import DataConfig
from autosnap.data.dataset import make_dataset
from autosnap.models.snapnet import SnapNet
from autosnap.training.config import TrainConfig
from autosnap.training.device import select_device
from autosnap.training.trainer import Split, optimise

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
SNAP = "dup c3 c3 add"


def plain_loop(train: Split, cfg: TrainConfig, device: torch.device) -> float:
    """Seconds for cfg.epochs of a hand-written loop."""
    torch.manual_seed(cfg.seed)
    model = SnapNet(SNAP, outputs=12, width=cfg.width, stages=cfg.stages).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n = len(train.x)
    start = time.perf_counter()
    for _ in range(cfg.epochs):
        perm = torch.randperm(n, device=device)
        for i in range(0, n - cfg.batch_size + 1, cfg.batch_size):
            idx = perm[i : i + cfg.batch_size]
            loss = nn.functional.mse_loss(model(train.x[idx]), train.y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def ours(train: Split, cfg: TrainConfig, device: torch.device) -> float:
    torch.manual_seed(cfg.seed)
    model = SnapNet(SNAP, outputs=12, width=cfg.width, stages=cfg.stages).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return optimise(model, train, cfg, device, on_epoch=lambda *_: None)[1]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["24x46", "48x92"])
    ap.add_argument("--n", type=int, default=1024, help="training images")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "results" / "child_throughput"), help="folder")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = select_device(args.device)
    rows = []
    for size in args.sizes:
        h, w = (int(v) for v in size.split("x"))
        work = HERE / "work" / f"throughput_{size}"
        if not (work / "train.parquet").exists():
            pixel = 0.214 if h >= 48 else 0.428
            make_dataset(
                from_dict(DataConfig, {"n_train": args.n, "n_val": 8, "n_test": 8,
                                       "patch": [h, w], "background_bank": 4,
                                       "geometry": {"detector_pixel_mm": pixel}}, "data"),
                work,
            )  # fmt: skip
        train = Split.load(work / "train.parquet", device)
        for channels_last in (True, False):
            cfg = TrainConfig(epochs=args.epochs, width=16, channels_last=channels_last,
                              schedule="constant")  # fmt: skip
            ours(train, TrainConfig(epochs=1, width=16), device)  # warm-up (AdamW import)
            t_plain = min(plain_loop(train, cfg, device) for _ in range(args.repeats))
            t_ours = min(ours(train, cfg, device) for _ in range(args.repeats))
            images = args.epochs * (len(train.x) // cfg.batch_size) * cfg.batch_size
            rows.append({
                "machine": f"{platform.node()} {device}" if device.type == "cuda"
                else f"cpu {args.threads} threads ({platform.processor() or platform.machine()})",
                "size": size, "channels_last": channels_last,
                "plain_images_per_s": images / t_plain, "ours_images_per_s": images / t_ours,
                "ratio": t_plain / t_ours,
            })  # fmt: skip
            print(rows[-1])
    out = Path(args.out) / "child_throughput.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out, index=False, float_format="%.3f")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
