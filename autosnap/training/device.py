"""Where a child trains: CPU or CUDA, and one GPU of its own per training process.

Several training processes often see the same GPUs: a local Snakemake run starts
children side by side, and a grouped Slurm job (group-components in profiles/slurm)
runs several training processes in one allocation whose GPUs all of them see. Each
process therefore leases one of its visible GPUs with an exclusive lock file held for
its lifetime, so no two children share a GPU. Only `train.device: cuda:N` pins a child
to a device (and so lets children share it).

Locks are per machine and, inside a Slurm job, per job: Slurm numbers each job's GPUs
from 0, so index 0 of two jobs on one node are different devices.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import torch

from autosnap.errors import InputError
from autosnap.progress import log

_held: list[IO[str]] = []  # lock files kept open (and locked) until the process exits


def lock_dir() -> Path:
    """The folder of the GPU locks: $AUTOSNAP_LOCK_DIR or the temp folder, one subfolder
    per Slurm job."""
    base = Path(os.environ.get("AUTOSNAP_LOCK_DIR", Path(tempfile.gettempdir()) / "autosnap-gpu"))
    job = os.environ.get("SLURM_JOB_ID")
    path = base / f"slurm-{job}" if job else base
    path.mkdir(parents=True, exist_ok=True)
    return path


def visible_gpus() -> list[str]:
    """The GPUs this process may use, by the names CUDA_VISIBLE_DEVICES gives them
    (indices or UUIDs; what Slurm sets in a job), else as torch counts them."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is None:
        return [str(i) for i in range(torch.cuda.device_count())]
    return [name.strip() for name in env.split(",") if name.strip()]


def lease_gpu(
    devices: int | Sequence[str], directory: Path | None = None, poll_s: float = 1.0
) -> int:
    """Index (into `devices`: a count, or the visible GPUs' names) of a GPU that no other
    autosnap process holds; waits while all are taken.

    The lock is released by the operating system when the process ends, so a crashed
    child never leaves a GPU reserved."""
    names = [str(i) for i in range(devices)] if isinstance(devices, int) else list(devices)
    directory = directory or lock_dir()
    while True:
        for i, name in enumerate(names):
            f = open(directory / f"gpu{name}.lock", "w")  # noqa: SIM115 - held for process life
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


def gpu_of_this_process() -> int:
    """The index of this process's own GPU among the visible ones (leased when more
    than one is visible)."""
    gpus = visible_gpus()
    if len(gpus) <= 1:
        return 0
    index = lease_gpu(gpus)
    log.info("leased GPU %d (%s) of %d visible", index, gpus[index], len(gpus))
    return index


#: What Slurm sets in a job (or step) that was given GPUs.
SLURM_GPU_VARIABLES = ("SLURM_STEP_GPUS", "SLURM_JOB_GPUS", "SLURM_GPUS_ON_NODE")


def slurm_gpus() -> str | None:
    """`NAME=value` of the first Slurm variable saying this job was given GPUs; None
    outside a GPU job."""
    for name in SLURM_GPU_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value and value != "0":
            return f"{name}={value}"
    return None


def job_device(configured: str, resources: Mapping[str, object]) -> str:
    """The device a training job asks for: `cuda` where the job's resources request GPUs
    (`gpu`, or a `gres` naming one) and the config says `auto`, so a GPU job never falls
    back to the CPU in silence."""
    asked = int(resources.get("gpu", 0) or 0) > 0 or "gpu" in str(resources.get("gres", ""))
    return "cuda" if configured == "auto" and asked else configured


def _no_cuda_reason() -> str:
    if torch.version.cuda is None:
        return f"this torch ({torch.__version__}) is a CPU-only build"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    shown = "unset" if visible is None else f"'{visible}'"
    return (f"torch {torch.__version__} (CUDA {torch.version.cuda}) finds no usable GPU "
            f"(CUDA_VISIBLE_DEVICES {shown}; check the driver with nvidia-smi)")  # fmt: skip


def select_device(preference: str = "auto") -> torch.device:
    """`auto` (CUDA when available), `cpu`, `cuda` (a GPU of its own) or `cuda:N`.

    Inside a Slurm job that was given GPUs, `auto` means `cuda`: a job that booked a GPU
    and cannot use it fails here, naming why, instead of training for days on the CPU."""
    if preference == "cpu":
        return torch.device("cpu")
    if preference not in ("auto", "cuda") and not preference.startswith("cuda:"):
        raise InputError(f"device must be auto, cpu, cuda or cuda:N, got '{preference}'")
    if not torch.cuda.is_available():
        given = slurm_gpus()
        if preference == "auto" and given is None:
            return torch.device("cpu")
        asked = f"device '{preference}' asked for" if given is None else (
            f"this Slurm job was given GPUs ({given})")  # fmt: skip
        raise InputError(f"{asked}, but CUDA is not available: {_no_cuda_reason()}; "
                         "set train.device: cpu to train on the CPU on purpose")  # fmt: skip
    if preference.startswith("cuda:"):
        return torch.device(preference)
    return torch.device(f"cuda:{gpu_of_this_process()}")


def describe_device(device: torch.device) -> str:
    """The device a job trains on, as its log names it: the GPU's model, or the CPU's
    thread count."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"
