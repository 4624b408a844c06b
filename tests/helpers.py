"""Paths and commands the tests share: the repository, the installed executables, and a
scratch copy of what a workflow run reads."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SNAKEMAKE = str(BIN / "snakemake")
AUTOSNAP = shutil.which("autosnap") or str(BIN / "autosnap")
#: torch threads of an in-process training: this worker's share of the cores
THREADS = max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))


def workdir(tmp: Path) -> Path:
    """A copy of what a run reads, so runs never touch the repository's results/ (nor
    copy a fetched CT volume)."""
    for name in ("workflow", "config", "profiles", "resources"):
        shutil.copytree(ROOT / name, tmp / name, ignore=shutil.ignore_patterns("*.nii.gz"))
    return tmp


#: A safety net against a hung run, not a budget: the tests wait on progress (a file
#: appearing, a process ending), so a loaded machine only makes them slower.
HANG_S = 3600


def snakemake(cwd: Path, *args: str, timeout: int = HANG_S) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    return subprocess.run([SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)  # fmt: skip


def planned(cwd: Path, *args: str) -> dict[str, int]:
    """Jobs a dry run would execute, by rule name."""
    r = snakemake(cwd, "-n", "--quiet", "rules", *args)
    assert r.returncode == 0, r.stdout + r.stderr
    counts: dict[str, int] = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("job", "total"):
            counts[parts[0]] = int(parts[1])
    return counts


#: What a user's own runs in the checkout write: the suite works in temporary folders
#: and must neither change these nor depend on them (`make run`, then `make test`).
USER_STATE = ("results", ".snakemake")


def user_state(root: Path = ROOT) -> dict[str, int]:
    """Every path under the checkout's USER_STATE folders with its modification time."""
    found = {}
    for name in USER_STATE:
        top = root / name
        if top.exists():
            for path in [top, *top.rglob("*")]:
                found[str(path.relative_to(root))] = path.lstat().st_mtime_ns
    return found
