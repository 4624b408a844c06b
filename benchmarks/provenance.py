"""What a results folder records about the run that made it (run.json): the commit (a
dirty tree is refused unless the run is told otherwise), the experiment file's hash,
package versions, the machine, the command and the wall time."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from autosnap.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autosnap", "torch", "numpy", "pandas", "scipy", "nas-bench-graph", "snakemake")


def git(*args: str, root: Path = ROOT) -> str:
    """git's output without the final newline (a porcelain line's leading blank counts)."""
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                          check=True).stdout.rstrip("\n")  # fmt: skip


class DirtyTreeError(InputError):
    """A run asked for on uncommitted changes, which no commit would reproduce."""


def commit(allow_dirty: bool, root: Path = ROOT) -> dict:
    """HEAD and whether the tree differs from it (benchmarks/results/ and work files
    aside: a run writes there); a dirty tree stops the run unless `allow_dirty`."""
    changed = [line for line in git("status", "--porcelain", root=root).splitlines()
               if not line[3:].startswith(("benchmarks/results/", "benchmarks/work/"))]  # fmt: skip
    if changed and not allow_dirty:
        raise DirtyTreeError("the tree has uncommitted changes, so no commit would reproduce "
                         f"this run ({changed[0].strip()} ...): commit them, or pass "
                         "--allow-dirty for a run that is not to be cited")  # fmt: skip
    return {"commit": git("rev-parse", "HEAD", root=root), "dirty": bool(changed)}


def source_run(path: Path) -> dict:
    """The checkout a measurement reads a finished run from (`--run PATH`): its commit,
    and whether tracked files differed from it, so the numbers name the code that made
    them and not only the code that tabulated them."""
    path = Path(path).resolve()
    try:
        head = git("rev-parse", "HEAD", root=path)
        changed = git("status", "--porcelain", "--untracked-files=no", root=path)
    except (subprocess.CalledProcessError, FileNotFoundError):
        return {"path": str(path), "commit": None, "dirty": None}  # not a git checkout
    return {"path": str(path), "commit": head, "dirty": bool(changed)}


def machine() -> dict:
    """CPU cores the process may use, the platform and the GPU when there is one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    out = {"cores": cores, "platform": platform.platform(), "python": platform.python_version()}
    import torch

    if torch.cuda.is_available():
        out["gpu"] = torch.cuda.get_device_name(0)
    return out


def versions() -> dict:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


class Run:
    """Opened before the work (the commit is checked first), written after it."""

    def __init__(self, experiment_digest: str, allow_dirty: bool):
        self.record = {**commit(allow_dirty), "experiment_sha256": experiment_digest,
                       "command": " ".join([Path(sys.executable).name, *sys.argv]),
                       "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}  # fmt: skip
        self.start = time.perf_counter()

    def write(self, folder: Path, **extra: object) -> Path:
        self.record.update(wall_seconds=round(time.perf_counter() - self.start, 1),
                           machine=machine(), versions=versions(), **extra)  # fmt: skip
        path = folder / "run.json"
        path.write_text(json.dumps(self.record, indent=2, sort_keys=True) + "\n")
        return path
