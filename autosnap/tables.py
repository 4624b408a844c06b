"""The Parquet tables that connect the stages (docs/design.md, "Tables"): columns and safe I/O.

Every write goes to a temporary name in the same folder and is renamed into place, so an
interrupted stage never leaves a partial file that a later stage would take as complete.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pandas as pd

from autosnap.errors import InputError

PROPOSAL_COLUMNS = ["round", "slot", "snap", "snap_id", "origin", "predicted_value"]
CHILD_COLUMNS = [
    "round", "slot", "snap", "snap_id", "origin", "status", "value", "landmark_err_mm",
    "position_err_mm", "angle_err_deg", "params", "macs", "latency_ms", "train_seconds",
    "epochs", "seed", "device", "error",
]  # fmt: skip


def also_columns(split: str) -> list[str]:
    """What a training scored on a second split as well adds to its row."""
    return [f"{split}_value", f"{split}_landmark_err_mm"]


#: A child scored on the test split as well (SNAP-Bench's table; a search never looks
#: at the test split).
TEST_COLUMNS = also_columns("test")
#: A final training scored on the validation split as well: what the final stage picks
#: the model to export by, so the test split stays the report's.
VAL_COLUMNS = also_columns("val")
DATA_COLUMNS = [
    "sample", "split", "instrument", "image", "height", "width", "landmarks", "mm_per_px",
    "x_mm", "y_mm", "z_mm", "angle_deg", "tilt_deg", "est_row", "est_col", "est_angle_deg",
    "seed",
]  # fmt: skip


class TableError(InputError):
    """A missing, unreadable or malformed table (names the file and the column)."""


def umask() -> int:
    """The process's file-mode creation mask (read from /proc where there is one, since
    setting it to read it back is not thread-safe)."""
    with suppress(OSError, ValueError, StopIteration), open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(
    path: str | Path, write: Callable[[Path], object], exclusive: bool = False
) -> Path | None:
    """Call `write(tmp)` on a temporary name in the folder of `path`, then move it into
    place: the one way every table, model and checkpoint reaches the disk, so a reader
    sees the old file or the whole new one, never a part.

    With `exclusive`, the first writer wins: the file is only created, never replaced
    (a hard link, atomic on POSIX file systems, NFS included), and None says that
    another writer was first.

    The file gets the permissions of any new file (0666 less the umask), not the 0600 of
    a temporary one, so lab-mates can read a shared results folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~umask())
        write(Path(tmp))
        if not exclusive:
            os.replace(tmp, path)
            return path
        try:
            os.link(tmp, path)
        except FileExistsError:
            return None
        return path
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextmanager
def exclusive(lock: str | Path) -> Iterator[None]:
    """Hold the lock file `lock` (waiting while another process holds it), so that work
    two processes would both do (train one child, render one data set) is done once;
    the operating system releases it when a process dies. Without file locks (some
    network file systems) go on unlocked: atomic_write keeps the files whole anyway."""
    Path(lock).parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as f:
        with suppress(OSError):
            fcntl.lockf(f, fcntl.LOCK_EX)
        yield


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write `df` atomically, as the suffix says: Parquet (`.parquet`), or CSV (`.csv`,
    for tables people open in a spreadsheet; read_table reads both)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))
    if suffix != ".parquet":
        raise TableError(f"{path}: a table is written as .parquet or .csv, not '{suffix}'")
    return atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


def read_table(path: str | Path, columns: Iterable[str] = ()) -> pd.DataFrame:
    """Read a Parquet table (or, for tables users write by hand, a .csv file) and check
    that it has `columns`."""
    path = Path(path)
    if not path.exists():
        raise TableError(f"{path}: file not found")
    csv = path.suffix == ".csv"
    try:
        df = pd.read_csv(path) if csv else pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for corrupt files
        kind = "CSV" if csv else "Parquet"
        raise TableError(f"{path}: not a readable {kind} table ({e})") from e
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TableError(f"{path}: missing column(s) {missing}, found {list(df.columns)}")
    return df
