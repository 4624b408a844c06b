"""The pose table of your own images (docs/own_data.md): its columns, how it is read,
and the check of everything `data.source: import` reads before any job runs.

Torch-free, so the workflow can check a config's files while it builds the DAG.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from autosnap.data.config import SPLITS, DataConfig
from autosnap.errors import InputError
from autosnap.tables import TableError, read_table

#: Required columns: the image file (relative to the image folder), the instrument's
#: reference point in pixels, its axis angle in the image and the pixel size there.
POSE_COLUMNS = ["file", "col", "row", "angle_deg", "mm_per_px"]
#: Shares of train, val and test for pose-table rows without a `split`.
SPLIT_FRACTIONS = (0.7, 0.15, 0.15)


class DataImportError(InputError):
    """A missing or unreadable image, or a pose that does not fit its image."""


def read_poses(path: Path) -> pd.DataFrame:
    """The pose table (CSV or Parquet) with its required columns and valid splits."""
    df = read_table(path, POSE_COLUMNS)
    if "split" in df.columns and not df["split"].isin(SPLITS).all():
        bad = sorted(set(df["split"]) - set(SPLITS))
        raise TableError(f"{path}: column 'split' has {bad}, expected one of {SPLITS}")
    return df


def import_files(cfg: DataConfig, source: str = "config") -> list[Path]:
    """Check what `data.source: import` reads, before any work: the pose table and
    every image it names. Returns the image paths; errors are one line naming `source`
    (the config file or files), the key and the path."""
    images, poses = Path(cfg.images), Path(cfg.poses)

    def shown(path: Path) -> str:
        return f"'{path}'" + ("" if path.is_absolute() else f" (relative to {Path.cwd()})")

    if not poses.is_file():
        raise DataImportError(f"{source}: data.poses: pose table {shown(poses)} not found")
    if not images.is_dir():
        raise DataImportError(f"{source}: data.images: image folder {shown(images)} not found")
    if not os.access(images, os.R_OK | os.X_OK):
        raise DataImportError(f"{source}: data.images: image folder '{images}' is not readable")
    try:
        table = read_poses(poses)
    except TableError as e:
        raise DataImportError(f"{source}: data.poses: {e}") from e
    files = [images / str(f) for f in table["file"]]
    missing = [str(f.relative_to(images)) for f in files if not f.is_file()]
    if missing:
        raise DataImportError(
            f"{source}: data.images: {len(missing)} of the {len(files)} images that {poses} "
            f"names are not in '{images}' (first: '{missing[0]}')"
        )
    return files
