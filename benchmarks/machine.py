"""How a benchmark table names the machine it was measured on."""

from __future__ import annotations

import os
import platform


def machine(device: str = "cpu") -> str:
    """'2 CPU cores (x86_64)', or the GPU's name when `device` is a CUDA device."""
    if device.startswith("cuda"):
        import torch

        return f"{torch.cuda.get_device_name(torch.device(device))} (GPU)"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} CPU cores ({platform.machine()})"


def publish(table, results, name: str):
    """Write a measurement's table as `{name}.csv` in `results` and show it."""
    from pathlib import Path

    path = Path(results) / f"{name}.csv"
    table.to_csv(path, index=False)
    print(table.to_string(index=False))
    return path
