"""Paths and commands the tests share: the repository, the installed executables, and a
scratch copy of what a workflow run reads."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SNAKEMAKE = str(BIN / "snakemake")
AUTOSNAP = shutil.which("autosnap") or str(BIN / "autosnap")


def workdir(tmp: Path) -> Path:
    """A copy of what a run reads, so runs never touch the repository's results/ (nor
    copy a fetched CT volume)."""
    for name in ("workflow", "config", "profiles", "resources"):
        shutil.copytree(ROOT / name, tmp / name, ignore=shutil.ignore_patterns("*.nii.gz"))
    return tmp
