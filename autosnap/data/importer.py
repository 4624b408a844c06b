"""Bring your own data: real X-ray images plus a pose table into the data set tables.

The pose table (CSV or Parquet) has one row per image with the columns
`file` (relative to the image folder), `col`, `row` (reference point in pixels),
`angle_deg` (in-plane axis angle, from +column towards +row) and `mm_per_px` (pixel
size at the instrument); optional `split` (train/val/test) and `instrument`. Without
tilt information the landmarks are placed in the image plane. Images (PNG, TIFF,
DICOM, NumPy .npy) are scaled to [0, 1] and read as transmitted intensity (metal
dark; `data.invert` for images stored the other way); patches are cut exactly as for
simulated data. An empty `mm_per_px` of a DICOM image comes from its header.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from autosnap.data.config import SPLITS, DataConfig
from autosnap.data.dicom import dicom_spacing, read_dicom
from autosnap.data.patches import cut_patch, perturb_estimate, to_patch
from autosnap.data.pose import in_plane_angle
from autosnap.data.pose_table import SPLIT_FRACTIONS, DataImportError, read_poses
from autosnap.progress import log
from autosnap.sim.fluoro import LANDMARKS_MM
from autosnap.tables import DATA_COLUMNS, write_table

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".dcm", ".npy")


def read_image(path: Path, invert: bool = False) -> np.ndarray:
    """A grayscale image as float64 in [0, 1], transmitted intensity (metal dark): PNG,
    TIFF and .npy scaled by their integer type's range (floats by their maximum), DICOM
    through its modality and VOI transforms (autosnap.data.dicom); `invert` turns a
    processed radiograph with metal bright the project's way round."""
    if not path.exists():
        raise DataImportError(f"{path}: image file not found")
    suffix = path.suffix.lower()
    if suffix == ".dcm":
        try:
            image = read_dicom(path)
        except DataImportError:
            raise
        except Exception as e:
            raise DataImportError(f"{path}: unreadable DICOM ({e})") from e
        return 1.0 - image if invert else image
    try:
        if suffix == ".npy":
            arr = np.load(path)
        elif suffix in (".png", ".tif", ".tiff"):
            from PIL import Image

            with Image.open(path) as im:
                arr = np.asarray(im.convert("I;16") if im.mode in ("I", "I;16") else im)
        else:
            raise DataImportError(f"{path}: unsupported image type, expected {IMAGE_SUFFIXES}")
    except DataImportError:
        raise
    except Exception as e:
        raise DataImportError(f"{path}: unreadable image ({e})") from e
    if arr.ndim == 3:
        arr = arr[..., :3].mean(axis=-1)
    if arr.ndim != 2:
        raise DataImportError(f"{path}: expected a 2-D grayscale image, got shape {arr.shape}")
    scale = np.iinfo(arr.dtype).max if np.issubdtype(arr.dtype, np.integer) else arr.max()
    image = arr.astype(np.float64) / max(float(scale), 1e-12)
    return 1.0 - image if invert else image


def fill_spacing(table: pd.DataFrame, images_dir: Path, poses: Path) -> pd.DataFrame:
    """Rows whose `mm_per_px` is empty take it from their DICOM header (PixelSpacing, or
    ImagerPixelSpacing over the magnification), and the log says so; an empty one that
    no header fills is an error naming the row."""
    empty = table["mm_per_px"].isna()
    if not empty.any():
        return table
    table = table.copy()
    sources: dict[str, int] = {}
    for i in table.index[empty]:
        file = images_dir / str(table.at[i, "file"])
        found = dicom_spacing(file) if file.suffix.lower() == ".dcm" else None
        if found is None:
            raise DataImportError(f"{poses}: row {i} ({table.at[i, 'file']}): mm_per_px is "
                                  "empty and the image has no PixelSpacing or "
                                  "ImagerPixelSpacing to take it from")  # fmt: skip
        table.at[i, "mm_per_px"], tag = found
        sources[tag] = sources.get(tag, 0) + 1
    for tag, n in sources.items():
        log.info("%s: mm_per_px of %d image(s) taken from their DICOM %s (the pixel size at "
                 "the instrument: check it against a known length)", poses, n, tag)  # fmt: skip
    return table


def pose_landmarks(r: pd.Series) -> np.ndarray:
    """The six landmarks (image pixels) of a pose-table row, in the image plane."""
    a = np.radians(r.angle_deg)
    axis, across = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    return np.array([r.col, r.row]) + (
        LANDMARKS_MM[:, :1] * axis + LANDMARKS_MM[:, 1:] * across
    ) / float(r.mm_per_px)


def import_dataset(cfg: DataConfig, out_dir: str | Path) -> dict[str, Path]:
    """Write train/val/test tables from the images and pose table of a `data:` section
    (`source: import`), `patches_per_image` patches each (around independently
    perturbed first guesses); rows without `split` are assigned at random (`seed`) by
    SPLIT_FRACTIONS. Every image is checked, and every split must have
    `min_images_per_split` images, before anything is written."""
    images_dir, poses, out_dir = Path(cfg.images), Path(cfg.poses), Path(out_dir)
    table = fill_spacing(read_poses(poses), images_dir, poses)
    rng = np.random.default_rng(cfg.seed)
    if "split" not in table.columns:
        table["split"] = rng.choice(SPLITS, size=len(table), p=SPLIT_FRACTIONS)
    counts = table["split"].value_counts()
    least = cfg.min_images_per_split
    small = {s: int(counts.get(s, 0)) for s in SPLITS if counts.get(s, 0) < least}
    if small:
        raise DataImportError(
            f"{poses}: {len(table)} images give too small splits "
            + ", ".join(f"{s}: {n} image(s)" for s, n in small.items())
            + f" (at least {least} each): add images, set a 'split' column, "
            "or lower data.min_images_per_split"
        )
    rows = []
    for i, r in table.iterrows():
        image = read_image(images_dir / str(r.file), cfg.invert)
        h, w = image.shape
        if not (0 <= r.col < w and 0 <= r.row < h):
            raise DataImportError(
                f"{poses}: row {i} ({r.file}): pose (col {r.col}, row {r.row}) lies outside "
                f"the {h}x{w} image"
            )
        if not r.mm_per_px > 0:
            raise DataImportError(f"{poses}: row {i} ({r.file}): mm_per_px must be positive")
        landmarks = pose_landmarks(r)
        for _ in range(cfg.patches_per_image):
            centre, est_angle = perturb_estimate(rng, np.array([r.col, r.row]),
                                                 in_plane_angle(landmarks), float(r.mm_per_px),
                                                 cfg.max_displacement_mm,
                                                 cfg.max_rotation_deg)  # fmt: skip
            rows.append(_row(r, image, landmarks, centre, est_angle, cfg.patch_shape, cfg.seed))
    df = pd.DataFrame(rows)
    paths = {}
    for split in SPLITS:
        part = df[df["split"] == split].reset_index(drop=True)
        part.insert(0, "sample", np.arange(len(part)))
        paths[split] = write_table(part[DATA_COLUMNS], out_dir / f"{split}.parquet")
    return paths


def _row(r: pd.Series, image: np.ndarray, landmarks: np.ndarray, centre: np.ndarray,
         est_angle: float, patch: tuple[int, int], seed: int) -> dict:  # fmt: skip
    """One data-table row: the patch around (centre, est_angle) and its landmarks."""
    return {
        "split": r.split,
        "instrument": str(r.get("instrument", "unknown")),
        "image": cut_patch(image, centre, est_angle, patch).astype(np.float32).tobytes(),
        "height": patch[0],
        "width": patch[1],
        "landmarks": to_patch(landmarks, centre, est_angle, patch).ravel().tolist(),
        "mm_per_px": float(r.mm_per_px),
        "x_mm": np.nan,
        "y_mm": np.nan,
        "z_mm": np.nan,
        "angle_deg": float(r.angle_deg),
        "tilt_deg": np.nan,
        "est_row": centre[1],
        "est_col": centre[0],
        "est_angle_deg": est_angle,
        "seed": seed,
    }
