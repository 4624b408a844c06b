"""Your own images through the whole workflow: `data.source: import` in the config, and
the search, final comparison and report run on patches cut from them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import planned, snakemake, workdir
from PIL import Image

from autosnap.data.example import write_example_set

pytestmark = pytest.mark.slow


def write_xrays(cwd, n: int) -> pd.DataFrame:
    """`n` simulated radiographs in the import format (autosnap data example) under
    cwd/xrays: images/ and poses.csv."""
    return write_example_set(cwd / "xrays", n, seed=3)


def test_a_search_runs_on_imported_images(tmp_path):
    cwd = workdir(tmp_path / "run")
    poses = write_xrays(cwd, 10)
    cfg = {
        "data": {"source": "import", "images": "xrays/images", "poses": "xrays/poses.csv",
                 "patch": [24, 46],
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
    # the images and the pose table decide by content: touched, nothing reruns
    image = cwd / "xrays/images" / poses["file"].iloc[0]
    for path in (image, cwd / "xrays/poses.csv"):
        path.touch()
        assert planned(cwd, "--configfile", "own.yaml") == {}
    # an image changed: the data are cut again (and what depends on them)
    pixels = np.asarray(Image.open(image))
    original = image.read_bytes()
    Image.fromarray(pixels[::-1].copy()).save(image)
    assert planned(cwd, "--configfile", "own.yaml").get("prepare_data") == 1
    image.write_bytes(original)
    # so does a changed pose table
    poses.assign(angle_deg=poses["angle_deg"] + 1.0).to_csv(cwd / "xrays/poses.csv", index=False)
    assert planned(cwd, "--configfile", "own.yaml").get("prepare_data") == 1


def test_the_own_data_config_cuts_the_committed_example(tmp_path):
    """config/own_data.yaml works from a fresh clone with no other step: its data are
    cut from resources/example_data (the whole search: test_dry_run_of_every_config)."""
    cwd = workdir(tmp_path)
    r = snakemake(cwd, "--configfile", "config/own_data.yaml", "--cores", "2",
                  "results/data/train.parquet")  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    own = yaml.safe_load((cwd / "config/own_data.yaml").read_text())["data"]
    train = pd.read_parquet(cwd / "results/data/train.parquet")
    assert len(train) == 16 * own["patches_per_image"] and train["x_mm"].isna().all()
    assert set(train["instrument"]) == {"screw", "drill"}


def test_too_few_images_for_a_split_fail_before_anything_is_written(tmp_path):
    cwd = workdir(tmp_path / "run")
    write_xrays(cwd, 5).drop(columns="split").to_csv(cwd / "poses.csv", index=False)
    data = {"source": "import", "images": "xrays/images", "poses": "poses.csv", "patch": [24, 46]}
    (cwd / "own.yaml").write_text(yaml.safe_dump({"data": data}))
    r = snakemake(cwd, "--configfile", "own.yaml", "--cores", "1", "results/data/train.parquet")
    assert r.returncode != 0
    assert "poses.csv: 5 images give too small splits" in r.stdout + r.stderr, r.stderr[-2000:]
    assert not list((cwd / "results/data").glob("*.parquet"))
