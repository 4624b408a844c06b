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
