"""A trained network on disk: its weights plus what rebuilds and feeds it.

The final stage writes one per candidate and seed; `autosnap export` and the report read
them. Weights are stored on the CPU in float32, so a checkpoint trained on a GPU loads
anywhere.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from autosnap.errors import InputError
from autosnap.models.baselines import HAND_DESIGNED, HandDesigned
from autosnap.models.factory import Architecture, build_model
from autosnap.space.snap import Snap
from autosnap.tables import atomic_write
from autosnap.training.config import TrainConfig

FORMAT = 1
#: Row fields kept with the weights (the model card quotes them).
KEPT = ("candidate", "status", "value", "landmark_err_mm", "position_err_mm", "angle_err_deg",
        "params", "macs", "latency_ms", "train_seconds", "epochs", "seed", "device")  # fmt: skip


class CheckpointError(InputError):
    """A checkpoint file that is missing or not one of ours."""


@dataclass
class Checkpoint:
    arch: Architecture
    train: TrainConfig
    #: Patch size (H, W) the network was trained on.
    input_shape: tuple[int, int]
    metrics: dict
    model: nn.Module
    #: Pixel size at the instrument (mm) of the training patches (median), if known.
    mm_per_px: float | None = None

    @property
    def kind(self) -> str:
        return "hand" if isinstance(self.arch, HandDesigned) else "snap"


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    arch: Architecture,
    cfg: TrainConfig,
    input_shape: tuple[int, int],
    row: dict,
    mm_per_px: float | None = None,
) -> Path:
    """Write atomically (temporary file, then rename), like the tables. `mm_per_px`: the
    training patches' pixel size, which inference on other images needs."""
    payload = {
        "format": FORMAT,
        "kind": "hand" if isinstance(arch, HandDesigned) else "snap",
        "arch": arch.text,
        "train": dataclasses.asdict(cfg),
        "input_shape": list(input_shape),
        "metrics": {k: row[k] for k in KEPT if k in row},
        "mm_per_px": mm_per_px,
        "state_dict": {
            k: v.detach().float().cpu() if v.is_floating_point() else v.cpu()
            for k, v in model.state_dict().items()
        },  # fmt: skip
    }
    return atomic_write(path, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(path: str | Path) -> Checkpoint:
    """The network rebuilt on the CPU in eval mode, in float32 and contiguous layout."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable checkpoint ({e})") from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an autosnap checkpoint (format {FORMAT} expected)")
    cfg = TrainConfig(**payload["train"])
    if payload["kind"] == "hand":
        if payload["arch"] not in HAND_DESIGNED:
            raise CheckpointError(f"{path}: unknown hand-designed network '{payload['arch']}'")
        arch: Architecture = HandDesigned(payload["arch"])
    else:
        arch = Snap.parse(payload["arch"], max_len=max(64, len(payload["arch"].split())))
    shape = tuple(payload["input_shape"])
    model = build_model(arch, shape, **cfg.net_size)
    model.load_state_dict(payload["state_dict"])
    return Checkpoint(arch, cfg, shape, payload["metrics"], model.eval(),  # type: ignore[arg-type]
                      payload.get("mm_per_px"))  # fmt: skip
