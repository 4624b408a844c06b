"""Your own images through the whole workflow: `data.source: import` in the config, and
the search, final comparison and report run on patches cut from them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import workdir
from PIL import Image
from test_workflow import snakemake

from autosnap.config import from_dict
from autosnap.data.config import DataConfig
from autosnap.data.dataset import Renderer, random_pose
from autosnap.data.pose import in_plane_angle

pytestmark = pytest.mark.slow


def write_xrays(folder, n: int, seed: int = 3) -> pd.DataFrame:
    """`n` simulated radiographs as 16-bit PNG files (no tilt: the pose table describes
    the instrument in the image plane), and their pose table."""
    cfg = from_dict(DataConfig, {"geometry": {"detector_pixel_mm": 0.428, "height": 96,
                                              "width": 96}, "patch": [24, 46],
                                 "max_tilt_deg": 0.0, "background_bank": 2}, "data")  # fmt: skip
    renderer, rng = Renderer.create(cfg), np.random.default_rng(seed)
    folder.mkdir(parents=True)
    rows = []
    splits = ["train"] * (n - 4) + ["val", "val", "test", "test"]
    for i in range(n):
        pose = random_pose(rng, cfg)
        image = renderer.full_image(rng, "screw", pose)
        Image.fromarray((np.clip(image, 0, 1) * 65535).astype(np.uint16)).save(folder / f"{i}.png")
        landmarks = cfg.geometry.project(pose.landmarks_3d())
        rows.append({"file": f"{i}.png", "col": landmarks[0, 0], "row": landmarks[0, 1],
                     "angle_deg": in_plane_angle(landmarks),
                     "mm_per_px": float(cfg.geometry.mm_per_px(pose.z_mm)),
                     "split": splits[i]})  # fmt: skip
    return pd.DataFrame(rows)


def test_a_search_runs_on_imported_images(tmp_path):
    cwd = workdir(tmp_path / "run")
    poses = write_xrays(cwd / "xrays", 10)
    poses.to_csv(cwd / "poses.csv", index=False)
    cfg = {
        "data": {"source": "import", "images": "xrays", "poses": "poses.csv", "patch": [24, 46],
                 "patches_per_image": 6, "seed": 1},
        "train": {"epochs": 1, "width": 4, "stages": 2, "threads": 1},
        "search": {"strategy": "evolution", "rounds": 1, "children": 2, "max_len": 6},
        "final": {"top": 1, "seeds": [0], "train": {"epochs": 1}, "baselines": ["i3posnet"],
                  "random_search": False},
        "resources": {"chunk": 2},
    }  # fmt: skip
    (cwd / "own.yaml").write_text(yaml.safe_dump(cfg))
    r = snakemake(cwd, "--configfile", "own.yaml", "--cores", "2")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    train = pd.read_parquet(cwd / "results/data/train.parquet")
    assert len(train) == 6 * 6 and train["x_mm"].isna().all()  # cut, not simulated
    assert set(np.round(train["mm_per_px"], 6)) <= set(np.round(poses["mm_per_px"], 6))
    assert len(pd.read_parquet(cwd / "results/data/test.parquet")) == 2 * 6
    assert (cwd / "results/data/examples.png").stat().st_size > 0
    summary = pd.read_parquet(cwd / "results/final/summary.parquet")
    assert list(summary["candidate"]) == ["best1", "i3posnet"]
    assert (cwd / "results/report/index.html").exists()
    # the pose table changed: the data are cut again (and what depends on them)
    poses.assign(angle_deg=poses["angle_deg"] + 1.0).to_csv(cwd / "poses.csv", index=False)
    r = snakemake(cwd, "--configfile", "own.yaml", "-n")
    assert r.returncode == 0 and "prepare_data" in r.stdout, r.stdout[-2000:]


def test_too_few_images_for_a_split_fail_before_anything_is_written(tmp_path):
    cwd = workdir(tmp_path / "run")
    write_xrays(cwd / "xrays", 5).drop(columns="split").to_csv(cwd / "poses.csv", index=False)
    data = {"source": "import", "images": "xrays", "poses": "poses.csv", "patch": [24, 46]}
    (cwd / "own.yaml").write_text(yaml.safe_dump({"data": data}))
    r = snakemake(cwd, "--configfile", "own.yaml", "--cores", "1", "results/data/train.parquet")
    assert r.returncode != 0
    assert "poses.csv: 5 images give too small splits" in r.stdout + r.stderr, r.stderr[-2000:]
    assert not list((cwd / "results/data").glob("*.parquet"))
