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

from autosnap.data.dataset import load_split
from autosnap.data.encoding import landmarks_to_targets, normalise_images, targets_to_landmarks
from autosnap.data.pose import pose_metrics, value_of
from autosnap.errors import InputError
from autosnap.models.factory import Architecture, build_model
from autosnap.models.snapnet import count_macs, count_params
from autosnap.progress import interactive, log
from autosnap.tables import atomic_write
from autosnap.training.config import TrainConfig
from autosnap.training.measure import forward_ms


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


@dataclass
class Resume:
    """Where a training stands after an epoch: everything its continuation needs to
    train on exactly as if it had not stopped (the weights, the optimiser's moments, the
    schedule's position, the data order's generator and the global generator)."""

    epoch: int
    model: dict
    optimiser: dict
    schedule: dict
    data_order: torch.Tensor
    global_rng: torch.Tensor

    def save(self, path: str | Path) -> Path:
        return atomic_write(path, lambda tmp: torch.save(dataclasses.asdict(self), tmp))

    @classmethod
    def load(cls, path: str | Path) -> Resume:
        return cls(**torch.load(path, map_location="cpu", weights_only=True))


def optimise(
    model: nn.Module,
    train_split: Split,
    cfg: TrainConfig,
    device: torch.device,
    label: str = "child",
    on_epoch: Callable[[int, float], None] | None = None,
    until: int | None = None,
    resume: Resume | None = None,
) -> tuple[float, float, Resume]:
    """The training loop: optimise `model` in place on `train_split` for the budget of
    `cfg`, stopping after epoch `until` when given, continuing from `resume` when given
    (the learning-rate schedule always spans the whole budget, so a training stopped
    and continued equals one straight through, bit for bit on the CPU); returns (epochs
    done, seconds, where it stands). Raises ChildFailure."""
    n = len(train_split.x)
    batch = min(cfg.batch_size, n)  # a train split smaller than a batch is one batch
    steps_per_epoch = n // batch  # drop the ragged last batch
    total = cfg.steps if cfg.steps > 0 else cfg.epochs * steps_per_epoch
    epochs = math.ceil(total / steps_per_epoch)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = make_schedule(opt, cfg, total)
    gen = torch.Generator().manual_seed(cfg.seed)
    first = 0
    if resume is not None:
        model.load_state_dict(resume.model)
        opt.load_state_dict(resume.optimiser)
        sched.load_state_dict(resume.schedule)
        gen.set_state(resume.data_order)
        torch.set_rng_state(resume.global_rng)
        first = resume.epoch
    last = epochs if until is None else min(until, epochs)
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    check_every = 10  # a finite check costs a host sync; divergence is caught 10 steps late
    start = time.perf_counter()
    step = first * steps_per_epoch
    model.train()
    for epoch in range(first, last):
        order = torch.randperm(n, generator=gen)[: steps_per_epoch * batch]
        order = order.view(steps_per_epoch, batch).to(device)
        loss_sum = torch.zeros((), device=device)
        seen = 0
        for idx in order:
            if step == total:
                break
            xb = train_split.x[idx].contiguous(memory_format=fmt)
            with autocast(device, cfg):
                loss = nn.functional.mse_loss(model(xb).float(), train_split.y[idx])
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
        log.info(  # always: a job log reads the same with or without a terminal
            "%s: epoch %d/%d loss %.5f (%.1f s)",
            label, epoch + 1, epochs, mean_loss, time.perf_counter() - start,
        )  # fmt: skip
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    state = Resume(last, model.state_dict(), opt.state_dict(), sched.state_dict(),
                   gen.get_state(), torch.get_rng_state())  # fmt: skip
    return step / steps_per_epoch, time.perf_counter() - start, state


@torch.inference_mode()
def predict_landmarks(
    model: nn.Module, split: Split, cfg: TrainConfig, device: torch.device
) -> np.ndarray:
    """Predicted landmark pixels (N, 6, 2) for a split."""
    model.eval()
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    out = []
    for xb in split.x.split(512):
        with autocast(device, cfg):
            out.append(model(xb.contiguous(memory_format=fmt)).float().cpu())
    h, w = split.shape[1:]
    return targets_to_landmarks(torch.cat(out).numpy(), h, w)


def result_row(
    arch: Architecture | None,
    meta: dict | None,
    seed: int,
    device: str,
    status: str = "ok",
    error: str = "",
    model: nn.Module | None = None,
    shape: tuple[int, int, int] | None = None,
) -> dict:
    """The one constructor of a result row (docs/design.md's child result; a final run adds
    `candidate` through `meta`), for every outcome: trained, failed, killed, and no
    candidate at all (`arch` None). Scores start empty; the cost is counted from `model`
    for an input of `shape` (C, H, W) when there is one."""
    return {
        **(meta or {}),
        "snap": "" if arch is None else arch.text,
        "snap_id": "" if arch is None else arch.snap_id,
        "status": status,
        "value": np.nan,
        "landmark_err_mm": np.nan,
        "position_err_mm": np.nan,
        "angle_err_deg": np.nan,
        "params": np.nan if model is None else count_params(model),
        "macs": np.nan if model is None or shape is None else count_macs(model, shape),
        "latency_ms": np.nan,
        "train_seconds": np.nan,
        "epochs": 0.0,
        "seed": seed,
        "device": device,
        "error": error,
    }


def train_child(
    arch: Architecture,
    train_split: Split,
    eval_split: Split,
    cfg: TrainConfig,
    device: torch.device,
    meta: dict | None = None,
    also: tuple[str, Split] | None = None,
    until: int | None = None,
    resume: str | Path | None = None,
    resume_out: str | Path | None = None,
) -> tuple[dict, nn.Module | None]:
    """Train one architecture with seed `cfg.seed` and score it on `eval_split`, and on
    a second split too when `also` = (its name, the split) is given (`{name}_value`,
    `{name}_landmark_err_mm`: the test split for SNAP-Bench's table, the validation split
    for the final stage's choice of model); returns (result row, trained model or None).

    `until`: stop after that epoch (a rung of successive halving), the schedule still
    spanning `cfg.epochs`; `resume`: a file of `Resume` to continue from; `resume_out`:
    where to save where the training stands when it ends well (for a continuation).

    Training failures become the row's status (`diverged`, `oom`, `timeout`, `error`)
    with an empty value; bad arguments raise InputError before anything is trained."""
    torch.manual_seed(cfg.seed)
    model = build_model(arch, train_split.shape[1:], **cfg.net_size)
    row = result_row(arch, meta, cfg.seed, str(device), model=model, shape=train_split.shape)
    label = f"{meta.get('slot', '') if meta else ''} {arch.text}".strip()
    try:
        model = model.to(device)
        if cfg.channels_last:
            model = model.to(memory_format=torch.channels_last)
        start = None if resume is None else Resume.load(resume)
        with _progress(label) as on_epoch:
            row["epochs"], row["train_seconds"], state = optimise(
                model, train_split, cfg, device, label, on_epoch, until, start
            )
        pred = predict_landmarks(model, eval_split, cfg, device)
        row.update(pose_metrics(pred, eval_split.landmarks, eval_split.mm_per_px))
        if not math.isfinite(row["landmark_err_mm"]):
            raise ChildFailure("diverged", "predictions are not finite")
        row["value"] = value_of(row["landmark_err_mm"])
        if also is not None:
            name, split = also
            pred = predict_landmarks(model, split, cfg, device)
            err = pose_metrics(pred, split.landmarks, split.mm_per_px)["landmark_err_mm"]
            row.update({f"{name}_landmark_err_mm": err, f"{name}_value": value_of(err)})
        row["latency_ms"] = forward_ms(model, train_split.shape, device)
        if resume_out is not None:
            state.save(resume_out)
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
