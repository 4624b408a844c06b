"""Style gates that CI enforces: ruff lint and formatting over the whole repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

RUFF = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")


def test_ruff_check_is_clean():
    r = subprocess.run([RUFF, "check", str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format_is_clean():
    r = subprocess.run([RUFF, "format", "--check", str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
