"""DICOM radiographs read as a radiologist's viewer shows them: the modality LUT, the VOI
window, MONOCHROME1 the right way round, one frame per file, the pixel size from the
header; and `data.invert` for images stored with metal bright. Every file is written
with pydicom, as a scanner's export would be."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT

from autosnap.config import from_dict
from autosnap.data.config import DataConfig
from autosnap.data.dataset import load_split
from autosnap.data.importer import import_dataset, read_image
from autosnap.data.pose_table import DataImportError

pydicom = pytest.importorskip("pydicom")
EXAMPLE = ROOT / "resources/example_data"


def write_dicom(path, pixels: np.ndarray, bits: int = 16, **tags) -> None:
    """A grayscale DICOM file of `pixels` (uint16, or (frames, rows, cols)) stored in
    `bits` bits, with `tags` set on top."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, generate_uid()
    ds.Modality, ds.PhotometricInterpretation = "RF", "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if pixels.ndim == 3:
        ds.NumberOfFrames = pixels.shape[0]
    ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 1, 16, bits, bits - 1
    ds.PixelRepresentation = 0
    for key, value in tags.items():
        setattr(ds, key, value)
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture
def ramp() -> np.ndarray:
    """A 12-bit ramp over the whole stored range."""
    return np.linspace(0, 4095, 32 * 48).round().reshape(32, 48).astype(np.uint16)


def test_a_12_bit_image_spans_0_to_1_through_its_rescale(tmp_path, ramp):
    """A 12-bit image is scaled by its stored range, not by uint16's (which left it in
    0.003-0.046), and a rescale slope and intercept change nothing a linear map keeps."""
    write_dicom(tmp_path / "plain.dcm", ramp, bits=12)
    write_dicom(tmp_path / "rescaled.dcm", ramp, bits=12, RescaleSlope=2, RescaleIntercept=-1000)
    plain, rescaled = read_image(tmp_path / "plain.dcm"), read_image(tmp_path / "rescaled.dcm")
    assert plain.min() == 0.0 and plain.max() == 1.0
    assert np.allclose(plain, ramp / 4095.0) and np.allclose(rescaled, plain)


def test_the_voi_window_is_what_is_read(tmp_path, ramp):
    """With a window centre and width the image is that window: below it black, above
    it white, linear inside (DICOM's linear VOI function)."""
    write_dicom(tmp_path / "w.dcm", ramp, bits=12, WindowCenter=2048, WindowWidth=1024)
    image = read_image(tmp_path / "w.dcm")
    assert (image[ramp < 1536] == 0).all() and (image[ramp > 2560] == 1).all()
    inside = (ramp > 1600) & (ramp < 2500)
    assert np.allclose(image[inside], (ramp[inside] - 2047.5) / 1023 + 0.5)


def test_monochrome1_is_read_the_right_way_round(tmp_path, ramp):
    write_dicom(tmp_path / "m2.dcm", ramp, bits=12)
    write_dicom(tmp_path / "m1.dcm", ramp, bits=12, PhotometricInterpretation="MONOCHROME1")
    assert np.allclose(read_image(tmp_path / "m1.dcm"), 1.0 - read_image(tmp_path / "m2.dcm"))


def test_a_multi_frame_file_is_refused_naming_its_frames(tmp_path, ramp):
    write_dicom(tmp_path / "cine.dcm", np.stack([ramp] * 5), bits=12)
    with pytest.raises(DataImportError, match=r"cine\.dcm: a multi-frame DICOM \(5 frames\)"):
        read_image(tmp_path / "cine.dcm")


def test_invert_turns_metal_bright_images_round():
    png = EXAMPLE / "images/000.png"
    assert np.allclose(read_image(png, invert=True), 1.0 - read_image(png))


def _example_as_dicom(folder, n: int = 6, **tags) -> pd.DataFrame:
    """The first `n` example images as 16-bit DICOM files, and their pose table."""
    from PIL import Image

    table = pd.read_csv(EXAMPLE / "poses.csv").head(n).copy()
    table["split"] = ["train", "train", "val", "val", "test", "test"][:n]
    folder.mkdir()
    for file in table["file"]:
        pixels = np.asarray(Image.open(EXAMPLE / "images" / file))
        write_dicom(folder / file.replace(".png", ".dcm"), pixels, **tags)
    return table.assign(file=table["file"].str.replace(".png", ".dcm"))


def test_dicom_images_import_as_their_png_twins(tmp_path):
    """A 16-bit DICOM file gives the same patches as the same pixels stored as PNG."""
    table = _example_as_dicom(tmp_path / "dcm")
    table.to_csv(tmp_path / "dcm.csv", index=False)
    table.assign(file=table["file"].str.replace(".dcm", ".png")).to_csv(tmp_path / "png.csv",
                                                                         index=False)  # fmt: skip
    png = import_dataset(section(EXAMPLE / "images", tmp_path / "png.csv"), tmp_path / "a")
    dcm = import_dataset(section(tmp_path / "dcm", tmp_path / "dcm.csv"), tmp_path / "b")
    for split in png:
        (x1, lm1, _), (x2, lm2, _) = load_split(png[split]), load_split(dcm[split])
        assert x1.shape[0] == 2 and np.array_equal(x1, x2) and np.array_equal(lm1, lm2)


def section(images, poses) -> DataConfig:
    return from_dict(DataConfig, {"source": "import", "images": str(images), "poses": str(poses),
                                  "patch": [24, 46]}, "data")  # fmt: skip


@pytest.mark.parametrize("tag", ["PixelSpacing", "ImagerPixelSpacing"])
def test_an_empty_pixel_size_is_taken_from_the_header_and_said(tmp_path, caplog, tag):
    table = _example_as_dicom(tmp_path / "dcm", **{tag: [0.25, 0.25]})
    table["mm_per_px"] = np.nan
    table.loc[0, "mm_per_px"] = 0.3  # a given value stays
    table.to_csv(tmp_path / "poses.csv", index=False)
    cfg = from_dict(DataConfig, {"source": "import", "images": str(tmp_path / "dcm"),
                                 "poses": str(tmp_path / "poses.csv")}, "data")  # fmt: skip
    with caplog.at_level(logging.INFO, logger="autosnap"):
        paths = import_dataset(cfg, tmp_path / "out")
    spacing = pd.read_parquet(paths["train"])["mm_per_px"]
    assert sorted(spacing.unique()) == [0.25, 0.3]
    assert f"mm_per_px of 5 image(s) taken from their DICOM {tag}" in caplog.text
    png = tmp_path / "png.csv"
    table.assign(file=table["file"].str.replace(".dcm", ".png")).to_csv(png, index=False)
    cfg = from_dict(DataConfig, {"source": "import", "images": str(EXAMPLE / "images"),
                                 "poses": str(png)}, "data")  # fmt: skip
    with pytest.raises(DataImportError, match=r"row 1 \(001\.png\): mm_per_px is empty"):
        import_dataset(cfg, tmp_path / "out2")
