"""Your own images: the committed example set, the pose table's conventions, DICOM, the
check of the files before any job, and one split rule for the CLI and the workflow."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import AUTOSNAP, ROOT
from PIL import Image

from autosnap.config import from_dict
from autosnap.data.config import DataConfig
from autosnap.data.dataset import load_split
from autosnap.data.importer import pose_landmarks, read_image
from autosnap.data.pose import recover_pose
from autosnap.data.pose_table import DataImportError, import_files

EXAMPLE = ROOT / "resources/example_data"


def section(images, poses, **data) -> DataConfig:
    return from_dict(DataConfig, {"source": "import", "images": str(images), "poses": str(poses),
                                  "patch": [24, 46], **data}, "data")  # fmt: skip


def test_the_committed_example_is_small_complete_and_split():
    poses = pd.read_csv(EXAMPLE / "poses.csv")
    files = list((EXAMPLE / "images").iterdir())
    assert sorted(f.name for f in files) == sorted(poses["file"])
    assert len(poses) >= 20 and sum(f.stat().st_size for f in files) < 2_000_000
    assert poses["split"].value_counts().to_dict() == {"train": 16, "val": 4, "test": 4}
    assert import_files(section(EXAMPLE / "images", EXAMPLE / "poses.csv"))


def test_the_example_writer_makes_the_committed_format(tmp_path):
    """`autosnap data example` writes what resources/example_data holds: the same
    columns, 16-bit images, and poses whose reference point lies on the instrument
    (darker than the image around it)."""
    r = subprocess.run([AUTOSNAP, "data", "example", "--out", str(tmp_path), "-n", "8"],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(tmp_path / "poses.csv")
    assert list(table.columns) == list(pd.read_csv(EXAMPLE / "poses.csv").columns)
    for _, row in table.iterrows():
        image = read_image(tmp_path / "images" / row.file)
        assert Image.open(tmp_path / "images" / row.file).mode.startswith("I")
        c, r_ = int(round(row.col)), int(round(row.row))
        assert image[r_ - 1 : r_ + 2, c - 1 : c + 2].mean() < image.mean()
    r = subprocess.run([AUTOSNAP, "data", "example", "--out", str(tmp_path / "x"), "-n", "3"],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and "at least 5 images, got 3" in r.stderr


def test_angles_point_from_the_reference_point_towards_the_tip():
    """The documented convention: 0 deg along +col, 90 deg along +row (down)."""
    for angle, direction in [(0.0, (1, 0)), (90.0, (0, 1)), (180.0, (-1, 0)), (-90.0, (0, -1))]:
        row = pd.Series({"col": 50.0, "row": 40.0, "angle_deg": angle, "mm_per_px": 0.5})
        landmarks = pose_landmarks(row)
        assert np.allclose(landmarks[2] - landmarks[0], 6.0 * np.array(direction))  # 3 mm
        position, recovered = recover_pose(landmarks[None])
        assert np.allclose(position, [[50.0, 40.0]]) and np.isclose(recovered[0] % 360, angle % 360)


@pytest.mark.parametrize(
    "images, poses, message",
    [
        ("nowhere", "poses.csv", "data.images: image folder 'nowhere' (relative to"),
        ("images", "nothing.csv", "data.poses: pose table 'nothing.csv' (relative to"),
        ("images", "bad.csv", "data.poses: bad.csv: missing column(s) ['mm_per_px']"),
        ("few", "poses.csv", "data.images: 20 of the 24 images that poses.csv names are not in"),
    ],
)
def test_import_files_name_the_key_and_the_path(tmp_path, monkeypatch, images, poses, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "images").symlink_to(EXAMPLE / "images")
    (tmp_path / "few").mkdir()
    for file in sorted((EXAMPLE / "images").iterdir())[:4]:
        (tmp_path / "few" / file.name).symlink_to(file)
    table = pd.read_csv(EXAMPLE / "poses.csv")
    table.to_csv("poses.csv", index=False)
    table.drop(columns="mm_per_px").to_csv("bad.csv", index=False)
    with pytest.raises(DataImportError) as e:
        import_files(section(images, poses), "my.yaml")
    assert str(e.value).startswith("my.yaml: ") and message in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def test_the_cli_import_splits_as_the_workflow_does(tmp_path):
    """One split rule: `autosnap data import` refuses a test split of one image, as the
    workflow does (data.min_images_per_split, default 2), and takes a config's data:
    section for everything else."""
    table = pd.read_csv(EXAMPLE / "poses.csv")
    table.loc[table["split"] == "test", "split"] = ["test", "train", "train", "train"]
    table.to_csv(tmp_path / "poses.csv", index=False)
    cmd = [AUTOSNAP, "data", "import", "--images", str(EXAMPLE / "images"), "--poses",
           str(tmp_path / "poses.csv"), "--out", str(tmp_path / "out")]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 2 and "test: 1 image(s) (at least 2 each)" in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()
    (tmp_path / "c.yaml").write_text("data:\n  patch: [20, 40]\n  patches_per_image: 3\n")
    r = subprocess.run([*cmd, "--config", str(tmp_path / "c.yaml"), "--seed", "4"],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2  # the config does not lower the bar either
    table.assign(split=pd.read_csv(EXAMPLE / "poses.csv")["split"]).to_csv(
        tmp_path / "poses.csv", index=False
    )
    r = subprocess.run([*cmd, "--config", str(tmp_path / "c.yaml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    x, _, _ = load_split(tmp_path / "out/test.parquet")
    assert x.shape == (4 * 3, 1, 20, 40)


@pytest.mark.slow
def test_data_check_counts_draws_and_warns_before_a_long_run(tmp_path):
    """`autosnap data check CONFIG` imports as the workflow does, prints the images and
    patches per split and instrument, draws the poses on a sample into one PNG it names,
    and warns when the patch does not suit the landmarks at the data's pixel size."""
    cmd = [AUTOSNAP, "data", "check", "config/own_data.yaml", "--out", str(tmp_path / "a")]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    per = yaml.safe_load((ROOT / "config/own_data.yaml").read_text())["data"]["patches_per_image"]
    assert f"train      drill       8 {8 * per:8d}" in r.stdout, r.stdout
    assert (f"per split: train 16 images / {16 * per} patches, val 4 images / {4 * per} "
            "patches") in r.stdout  # fmt: skip
    assert "warning" not in r.stdout
    png = tmp_path / "a/poses.png"
    assert f"poses drawn on 8 images: {png}" in r.stdout and png.stat().st_size > 0
    assert not (ROOT / "data_check").exists()
    for patch, says in (([8, 16], "is too small at"), ([96, 192], "is large for")):
        (tmp_path / "c.yaml").write_text(
            (ROOT / "config/own_data.yaml").read_text().replace("[24, 46]", str(patch))
        )
        r = subprocess.run([*cmd[:3], str(tmp_path / "c.yaml"), "--out", str(tmp_path / "b")],
                           capture_output=True, text=True, cwd=ROOT)  # fmt: skip
        assert (
            r.returncode == 0 and f"warning: data.patch {patch[0]}x{patch[1]} px {says}" in r.stdout
        )
    r = subprocess.run([*cmd[:3], "config/smoke.yaml"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "data.source is not 'import'" in r.stderr


def test_data_import_needs_an_output_folder():
    """`data import` never defaults to the workflow's results/data, which prepare_data owns."""
    r = subprocess.run([AUTOSNAP, "data", "import", "--images", "x", "--poses", "y"],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and "--out" in r.stderr
