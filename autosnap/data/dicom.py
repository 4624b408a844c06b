"""DICOM radiographs read as the project's images: transmitted intensity in [0, 1],
metal and bone dark (docs/own_data.md, "Images").

Stored pixels are not yet an image to look at: the modality LUT (rescale slope and
intercept, or a LUT sequence) turns them into the modality's values, a VOI window or LUT
(where the file has one) picks the range a reader is meant to see, and MONOCHROME1
stores the image inverted (low values bright). Each step is applied here, so a 12-bit
image spans [0, 1] like an 8-bit one, and a MONOCHROME1 file reads the right way round.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autosnap.data.pose_table import DataImportError


def _dcmread(path: Path):
    try:
        import pydicom
    except ModuleNotFoundError as e:
        raise DataImportError(
            f"{path}: reading DICOM needs the dicom extra: pip install -e '.[dicom]'"
        ) from e
    return pydicom.dcmread(path)


def _window(values: np.ndarray, ds) -> np.ndarray | None:
    """The VOI transform to [0, 1]: the first window (linear, DICOM PS3.3 C.11.2.1.2),
    else the first VOI LUT; None without either."""
    from pydicom.multival import MultiValue

    if "WindowCenter" in ds and "WindowWidth" in ds:
        first = lambda v: float(v[0] if isinstance(v, MultiValue) else v)  # noqa: E731
        c, w = first(ds.WindowCenter), max(first(ds.WindowWidth), 1.0)
        return np.clip((values - (c - 0.5)) / (w - 1.0 if w > 1 else 1.0) + 0.5, 0.0, 1.0)
    if "VOILUTSequence" in ds:
        from pydicom.pixels import apply_voi_lut

        out = apply_voi_lut(values, ds).astype(np.float64)
        lut = np.asarray(ds.VOILUTSequence[0].LUTData, dtype=np.float64)
        return np.clip((out - lut.min()) / max(lut.max() - lut.min(), 1e-12), 0.0, 1.0)
    return None


def read_dicom(path: Path) -> np.ndarray:
    """A single-frame grayscale DICOM image in [0, 1], transmitted intensity (MONOCHROME1
    inverted). Without a VOI window the stored range (BitsStored, through the modality
    LUT) maps to [0, 1]. A multi-frame file is refused: a pose table names one image
    per row."""
    from pydicom.pixels import apply_modality_lut

    ds = _dcmread(path)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames > 1:
        raise DataImportError(f"{path}: a multi-frame DICOM ({frames} frames); export "
                              "each frame as a file, one pose-table row each")  # fmt: skip
    photometric = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2"))
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise DataImportError(f"{path}: PhotometricInterpretation {photometric}; expected a "
                              "grayscale radiograph (MONOCHROME1 or MONOCHROME2)")  # fmt: skip
    stored = ds.pixel_array
    values = apply_modality_lut(stored, ds).astype(np.float64)
    image = _window(values, ds)
    if image is None:
        bits = int(getattr(ds, "BitsStored", stored.dtype.itemsize * 8))
        signed = int(getattr(ds, "PixelRepresentation", 0)) == 1
        lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        ends = apply_modality_lut(np.array([lo, hi], dtype=np.int64), ds).astype(np.float64)
        image = (values - ends.min()) / max(ends.max() - ends.min(), 1e-12)
    image = np.clip(image, 0.0, 1.0)
    return 1.0 - image if photometric == "MONOCHROME1" else image


def dicom_spacing(path: Path) -> tuple[float, str] | None:
    """The pixel size (mm) a DICOM header gives and the tag it came from: PixelSpacing
    (calibrated), else ImagerPixelSpacing (at the detector) divided by the estimated
    radiographic magnification when the file has one; None without either. Rows and
    columns must have the same size (a patch is cut with square pixels)."""
    ds = _dcmread(path)
    for tag in ("PixelSpacing", "ImagerPixelSpacing"):
        if tag in ds:
            row_mm, col_mm = (float(v) for v in ds[tag].value)
            if not np.isclose(row_mm, col_mm, rtol=1e-3):
                raise DataImportError(f"{path}: {tag} {row_mm} x {col_mm} mm: non-square "
                                      "pixels; give mm_per_px in the pose table")  # fmt: skip
            factor = float(getattr(ds, "EstimatedRadiographicMagnificationFactor", 1.0) or 1.0)
            if tag == "ImagerPixelSpacing" and factor != 1.0:
                return col_mm / factor, f"{tag} / EstimatedRadiographicMagnificationFactor"
            return col_mm, tag
    return None
