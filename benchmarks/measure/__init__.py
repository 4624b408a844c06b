"""Measurements of the pipeline itself (speed, overhead, scale, a finished run's table),
each run by an experiment of `kind: measure` that names it and pins its arguments.

Each module has `main(argv)`: the harness calls it with the experiment's `args` and
`--out` set to the experiment's results folder."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pandas as pd


def machine(device: str = "cpu") -> str:
    """'2 CPU cores (x86_64)', or the GPU's name when `device` is a CUDA device."""
    if device.startswith("cuda"):
        import torch

        return f"{torch.cuda.get_device_name(torch.device(device))} (GPU)"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} CPU cores ({platform.machine()})"


def publish(table: pd.DataFrame, results: str | Path, name: str) -> Path:
    """Write a measurement's table as `{name}.csv` in `results` and show it."""
    path = Path(results) / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    print(table.to_string(index=False))
    return path
