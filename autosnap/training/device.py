"""Where a child trains: CPU or CUDA, and one GPU per process on multi-GPU machines.

Concurrent children started by a local Snakemake run would all land on cuda:0. Each
process therefore leases a GPU with an exclusive lock file held for its lifetime. When a
scheduler has already restricted the visible devices (Slurm sets CUDA_VISIBLE_DEVICES
per job) or only one device is visible, no lease is taken.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from pathlib import Path
from typing import IO

import torch

from autosnap.errors import InputError
from autosnap.progress import log

_held: list[IO[str]] = []  # lock files kept open (and locked) until the process exits


def lock_dir() -> Path:
    path = Path(os.environ.get("AUTOSNAP_LOCK_DIR", Path(tempfile.gettempdir()) / "autosnap-gpu"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def lease_gpu(n_devices: int, directory: Path | None = None, poll_s: float = 1.0) -> int:
    """Index of a GPU no other autosnap process holds; waits while all are taken.

    The lock is released by the operating system when the process ends, so a crashed
    child never leaves a GPU reserved."""
    directory = directory or lock_dir()
    while True:
        for i in range(n_devices):
            f = open(directory / f"gpu{i}.lock", "w")  # noqa: SIM115 - held for process life
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                continue
            f.write(str(os.getpid()))
            f.flush()
            _held.append(f)
            return i
        time.sleep(poll_s)


def scheduler_restricted() -> bool:
    """True when a scheduler chose the visible devices for this job."""
    return "CUDA_VISIBLE_DEVICES" in os.environ and (
        "SLURM_JOB_ID" in os.environ or "AUTOSNAP_NO_GPU_LEASE" in os.environ
    )


def select_device(preference: str = "auto") -> torch.device:
    """`auto` (CUDA when available), `cpu`, `cuda` or `cuda:N`."""
    if preference == "cpu":
        return torch.device("cpu")
    if preference not in ("auto", "cuda") and not preference.startswith("cuda:"):
        raise InputError(f"device must be auto, cpu, cuda or cuda:N, got '{preference}'")
    if not torch.cuda.is_available():
        if preference == "auto":
            return torch.device("cpu")
        raise InputError(f"device '{preference}' asked for, but CUDA is not available")
    if preference.startswith("cuda:"):
        return torch.device(preference)
    n = torch.cuda.device_count()
    if n == 1 or scheduler_restricted():
        return torch.device("cuda:0")
    index = lease_gpu(n)
    log.info("leased GPU %d of %d", index, n)
    return torch.device(f"cuda:{index}")
