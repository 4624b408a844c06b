"""Child training: the test environment that scores one SNAP.

A child is SNAPNet with the SNAP's block, trained on the train split and scored on the
validation split (the test split only in the final stage). The whole split lives in
memory as one tensor on the training device; a batch is an index into it, so the loop
does no per-sample Python work. Failure is data: divergence, out-of-memory and the time
limit give a row with its `status`, never an exception that stops the search.
"""

from __future__ import annotations

import dataclasses
import math
import time
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from autosnap.baselines import HandDesigned
from autosnap.data import load_split
from autosnap.errors import InputError
from autosnap.net import SnapNet, count_macs, count_params
from autosnap.pose import pose_metrics, value_of
from autosnap.progress import interactive, log
from autosnap.snap import Snap

SCHEDULES = ("onecycle", "cosine", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """The `train:` section of a config: the child's budget and network size."""

    epochs: int = 5
    #: When > 0, train exactly this many optimiser steps instead of `epochs`.
    steps: int = 0
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    schedule: str = "onecycle"
    #: SNAPNet size: stem channels C0, stages S, blocks per stage B.
    width: int = 16
    stages: int = 3
    blocks: int = 1
    #: CPU threads per child (0: leave torch's default).
    threads: int = 0
    device: str = "auto"
    #: Seconds before a child is stopped with status `timeout` (0: no limit).
    time_limit_s: float = 0.0
    channels_last: bool = True
    #: bfloat16 autocast on CUDA (ignored on CPU).
    amp: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got '{self.schedule}'")
        for name in ("batch_size", "width", "stages", "blocks"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.epochs < 1 and self.steps < 1:
            raise ValueError("epochs or steps must be at least 1")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")


class ChildFailure(Exception):
    """Training stopped for a reason that becomes the row's status."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Split:
    """One data split as tensors on the training device."""

    x: torch.Tensor  # (N, 1, H, W) normalised images
    y: torch.Tensor  # (N, 12) normalised landmark targets
    landmarks: np.ndarray  # (N, 6, 2) landmark pixels (col, row)
    mm_per_px: np.ndarray  # (N,)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.x.shape[1:])  # type: ignore[return-value]

    @classmethod
    def load(cls, path: str | Path, device: torch.device) -> Split:
        images, landmarks, mm = load_split(path)
        h, w = images.shape[2:]
        return cls(
            x=torch.from_numpy(normalise_images(images)).to(device),
            y=torch.from_numpy(landmarks_to_targets(landmarks, h, w)).to(device),
            landmarks=landmarks,
            mm_per_px=mm,
        )


def normalise_images(images: np.ndarray) -> np.ndarray:
    """Network input: attenuation (-log of the transmitted fraction), standardised per
    image, so exposure and anatomy thickness do not shift the input range."""
    att = -np.log(np.clip(images, 1e-4, None))
    mean = att.mean(axis=(1, 2, 3), keepdims=True)
    std = att.std(axis=(1, 2, 3), keepdims=True) + 1e-6
    return ((att - mean) / std).astype(np.float32)


def landmarks_to_targets(landmarks: np.ndarray, h: int, w: int) -> np.ndarray:
    """Landmark pixels (N, 6, 2) to targets (N, 12) in about [-1, 1] around the centre."""
    centre = np.array([(w - 1) / 2, (h - 1) / 2], dtype=np.float32)
    return ((landmarks - centre) / (w / 2)).reshape(len(landmarks), -1).astype(np.float32)


def targets_to_landmarks(targets: np.ndarray, h: int, w: int) -> np.ndarray:
    centre = np.array([(w - 1) / 2, (h - 1) / 2], dtype=np.float32)
    return targets.reshape(len(targets), 6, 2) * (w / 2) + centre


def make_schedule(
    opt: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler:
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total_steps)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    return torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)


def autocast(device: torch.device, cfg: TrainConfig):
    if device.type == "cuda" and cfg.amp and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def fit(
    model: nn.Module,
    train: Split,
    cfg: TrainConfig,
    device: torch.device,
    label: str = "child",
    on_epoch: Callable[[int, float], None] | None = None,
) -> tuple[float, float]:
    """Train `model` in place; returns (epochs done, seconds). Raises ChildFailure."""
    n = len(train.x)
    steps_per_epoch = max(1, n // cfg.batch_size)  # drop the ragged last batch
    total = cfg.steps if cfg.steps > 0 else cfg.epochs * steps_per_epoch
    epochs = math.ceil(total / steps_per_epoch)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = make_schedule(opt, cfg, total)
    gen = torch.Generator().manual_seed(cfg.seed)
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    check_every = 10  # a finite check costs a host sync; divergence is caught 10 steps late
    start = time.perf_counter()
    step = 0
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)[: steps_per_epoch * cfg.batch_size]
        order = order.view(steps_per_epoch, cfg.batch_size).to(device)
        loss_sum = torch.zeros((), device=device)
        seen = 0
        for idx in order:
            if step == total:
                break
            xb = train.x[idx].contiguous(memory_format=fmt)
            with autocast(device, cfg):
                loss = nn.functional.mse_loss(model(xb).float(), train.y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.detach()
            seen += 1
            step += 1
            if step % check_every == 0 and not torch.isfinite(loss_sum):
                raise ChildFailure("diverged", f"loss is {loss_sum.item()} at step {step}")
            if cfg.time_limit_s and time.perf_counter() - start > cfg.time_limit_s:
                raise ChildFailure(
                    "timeout", f"time limit of {cfg.time_limit_s} s reached at step {step}"
                )
        mean_loss = (loss_sum / max(seen, 1)).item()
        if not math.isfinite(mean_loss):
            raise ChildFailure("diverged", f"loss is {mean_loss} in epoch {epoch + 1}")
        if on_epoch is not None:
            on_epoch(epoch + 1, mean_loss)
        else:
            log.info(
                "%s: epoch %d/%d loss %.5f (%.1f s)",
                label, epoch + 1, epochs, mean_loss, time.perf_counter() - start,
            )  # fmt: skip
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return step / steps_per_epoch, time.perf_counter() - start


@torch.inference_mode()
def predict(model: nn.Module, split: Split, cfg: TrainConfig, device: torch.device) -> np.ndarray:
    """Predicted landmark pixels (N, 6, 2) for a split."""
    model.eval()
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    out = []
    for xb in split.x.split(512):
        with autocast(device, cfg):
            out.append(model(xb.contiguous(memory_format=fmt)).float().cpu())
    h, w = split.shape[1:]
    return targets_to_landmarks(torch.cat(out).numpy(), h, w)


@torch.inference_mode()
def latency_ms(
    model: nn.Module, shape: tuple[int, ...], device: torch.device, runs: int = 20
) -> float:
    """Median wall time of one forward pass at batch size 1 (after warm-up)."""
    model.eval()
    x = torch.zeros((1, *shape), device=device)
    times = []
    for i in range(runs + 3):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t = time.perf_counter()
        model(x)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i >= 3:
            times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


#: What a child trains: a SNAP in SNAPNet, or a hand-designed baseline network.
Architecture = Snap | HandDesigned


def build_model(arch: Architecture, cfg: TrainConfig, input_shape: tuple[int, int]) -> nn.Module:
    """The network of an architecture at the size the training config asks for."""
    if isinstance(arch, HandDesigned):
        return arch.build(input_shape, outputs=12)
    return SnapNet(arch, outputs=12, width=cfg.width, stages=cfg.stages, blocks=cfg.blocks)


def child_row(
    arch: Architecture,
    model: nn.Module,
    shape: tuple[int, int, int],
    meta: dict | None,
    seed: int,
    device: str,
    status: str = "ok",
    error: str = "",
) -> dict:
    """A child's result row before (or without) training: architecture, cost, no scores."""
    return {
        **(meta or {}),
        "snap": arch.text,
        "snap_id": arch.snap_id,
        "status": status,
        "value": np.nan,
        "landmark_err_mm": np.nan,
        "position_err_mm": np.nan,
        "angle_err_deg": np.nan,
        "params": count_params(model),
        "macs": count_macs(model, shape),
        "latency_ms": np.nan,
        "train_seconds": np.nan,
        "epochs": 0.0,
        "seed": seed,
        "device": device,
        "error": error,
    }


def train_child(
    snap: Architecture,
    train: Split,
    evaluate_on: Split,
    cfg: TrainConfig,
    device: torch.device,
    meta: dict | None = None,
    seed: int | None = None,
) -> tuple[dict, nn.Module | None]:
    """Train and score one SNAP; returns (child-result row, trained model or None).

    Training failures become the row's status (`diverged`, `oom`, `timeout`, `error`)
    with an empty value; bad arguments raise InputError before anything is trained."""
    seed = cfg.seed if seed is None else seed
    cfg = dataclasses.replace(cfg, seed=seed)
    torch.manual_seed(seed)
    model = build_model(snap, cfg, train.shape[1:])
    row = child_row(snap, model, train.shape, meta, seed, str(device))
    label = f"{meta.get('slot', '') if meta else ''} {snap.text}".strip()
    try:
        model = model.to(device)
        if cfg.channels_last:
            model = model.to(memory_format=torch.channels_last)
        with _progress(label) as on_epoch:
            row["epochs"], row["train_seconds"] = fit(model, train, cfg, device, label, on_epoch)
        pred = predict(model, evaluate_on, cfg, device)
        row.update(pose_metrics(pred, evaluate_on.landmarks, evaluate_on.mm_per_px))
        if not math.isfinite(row["landmark_err_mm"]):
            raise ChildFailure("diverged", "predictions are not finite")
        row["value"] = value_of(row["landmark_err_mm"])
        row["latency_ms"] = latency_ms(model, train.shape, device)
    except ChildFailure as e:
        row.update(status=e.status, error=str(e))
    except torch.OutOfMemoryError as e:
        row.update(status="oom", error=str(e).splitlines()[0])
    except Exception as e:  # any other failure of one child must not stop the search
        row.update(status="error", error=f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
    if row["status"] != "ok":
        log.warning("%s: %s (%s)", label, row["status"], row["error"].splitlines()[0])
        model = None
        if device.type == "cuda":
            torch.cuda.empty_cache()
    else:
        log.info(
            "%s: value %.4f, landmark error %.3f mm, %.1f s",
            label, row["value"], row["landmark_err_mm"], row["train_seconds"],
        )  # fmt: skip
    return row, model


class _progress:
    """A rich bar with epoch and loss on a terminal; None (plain log lines) otherwise."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None

    def __enter__(self) -> Callable[[int, float], None] | None:
        if not interactive():
            return None
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(),
            TextColumn("epoch {task.completed:.0f} loss {task.fields[loss]:.5f}"),
            TimeElapsedColumn(), transient=True,
        )  # fmt: skip
        self.bar.start()
        task = self.bar.add_task(self.label[:40], total=None, loss=float("nan"))

        def on_epoch(epoch: int, loss: float) -> None:
            self.bar.update(task, completed=epoch, loss=loss)

        return on_epoch

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def load_splits(
    data_dir: str | Path, device: torch.device, evaluate: str = "val"
) -> tuple[Split, Split]:
    """The train split and the split children are scored on (`val`, or `test` at the end)."""
    data_dir = Path(data_dir)
    if evaluate not in ("val", "test"):
        raise InputError(f"children are scored on 'val' or 'test', not '{evaluate}'")
    return (
        Split.load(data_dir / "train.parquet", device),
        Split.load(data_dir / f"{evaluate}.parquet", device),
    )
