"""What a network costs where it will run: parameters, multiply-accumulates and forward
latency, measured before any training (milliseconds, not a training).

A deployment budget is set on the machine beside the C-arm, not on the cluster that
trains: `autosnap measure` prints these for a SNAP or a baseline name at a patch size,
on this machine's CPU or GPU, so a user times the i3PosNet-like network there and sets
the budget from it. Latency is the median of timed forward passes after a warm-up.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from autosnap.errors import InputError
from autosnap.models.baselines import BASELINE_SNAPS, HAND_DESIGNED, HandDesigned
from autosnap.models.factory import Architecture, build_model
from autosnap.models.snapnet import count_macs, count_params
from autosnap.space.snap import Snap
from autosnap.training.config import TrainConfig

WARMUP = 3


def architecture(text: str, max_len: int = 64) -> Architecture:
    """A SNAP, or a baseline by name (`i3posnet`, `resnet`)."""
    if text in HAND_DESIGNED:
        return HandDesigned(text)
    if text in BASELINE_SNAPS:
        return Snap.parse(BASELINE_SNAPS[text], max_len)
    try:
        return Snap.parse(text, max_len)
    except ValueError as e:
        names = ", ".join((*HAND_DESIGNED, *BASELINE_SNAPS))
        raise InputError(f"'{text}': neither a baseline ({names}) nor a valid SNAP ({e})") from e


@torch.inference_mode()
def forward_ms(model: torch.nn.Module, shape: tuple[int, int, int], device: torch.device,
               batch: int = 1, runs: int = 20) -> float:  # fmt: skip
    """Median wall time of one forward pass of `batch` inputs of `shape` (C, H, W) on
    `device`, after WARMUP passes (the first ones pay for allocation and kernel choice)."""
    model = model.to(device).eval()
    x = torch.zeros((batch, *shape), device=device)
    times = []
    for i in range(runs + WARMUP):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        model(x)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i >= WARMUP:
            times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def measure(arch: Architecture, patch: tuple[int, int], train: TrainConfig,
            device: torch.device, batch: int = 1, runs: int = 20) -> dict:  # fmt: skip
    """Parameters, MACs and latency (ms) of the network of `arch` at `patch` (H, W),
    sized by `train` as the search sizes its children."""
    torch.manual_seed(0)
    model = build_model(arch, patch, **train.net_size)
    shape = (1, *patch)
    return {"params": count_params(model), "macs": count_macs(model, shape),
            "latency_ms": forward_ms(model, shape, device, batch, runs),
            "device": str(device), "batch": batch}  # fmt: skip
