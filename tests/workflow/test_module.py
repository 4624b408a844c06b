"""autosnap used as a Snakemake module, as a deployed catalog pipeline is (snakedeploy): a
Snakefile in the user's own folder includes this repository's workflow with `module`
and `use rule *`. Scripts, captions and the schema resolve relative to the workflow;
results, logs, the config and the user's images relative to the working directory."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml
from helpers import ROOT, planned, snakemake

pytestmark = pytest.mark.slow

USER_SNAKEFILE = f"""configfile: "config.yaml"


module autosnap:
    snakefile:
        "{ROOT / "workflow/Snakefile"}"
    config:
        config


use rule * from autosnap
"""
#: The smoke search, smaller: one final seed, one baseline, no random search.
SMALLER = {"search": {"children": 2}, "final": {"seeds": [0], "baselines": ["resnet"],
                                                "random_search": False}}  # fmt: skip


def user_folder(tmp_path, overlay: dict) -> tuple:
    smoke = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    cfg = {k: {**smoke.get(k, {}), **overlay.get(k, {})} for k in smoke.keys() | overlay.keys()}
    (tmp_path / "Snakefile").write_text(USER_SNAKEFILE)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    return tmp_path, cfg


def test_the_smoke_search_runs_as_a_module_in_the_users_folder(tmp_path):
    cwd, cfg = user_folder(tmp_path, SMALLER)
    jobs = planned(cwd)
    assert jobs["prepare_data"] == 1 and jobs["fit"] == cfg["search"]["rounds"] - 1, jobs
    r = snakemake(cwd, "--cores", "2")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    summary = pd.read_parquet(cwd / "results/final/summary.parquet")
    assert list(summary["candidate"]) == ["best1", "resnet"]
    assert (cwd / "results/report/index.html").exists() and (cwd / "results/export").is_dir()
    assert (cwd / "results/logs/prepare_data.log").exists()
    assert planned(cwd) == {}
    # a key error names the user's config file, not the workflow's own default
    (cwd / "bad.yaml").write_text("serach: {rounds: 2}\n")
    r = snakemake(cwd, "-n", "--configfile", "bad.yaml")
    assert "config.yaml + " in r.stderr + r.stdout and "config/config.yaml" not in r.stderr


def test_own_images_resolve_from_the_users_working_directory(tmp_path):
    shutil.copytree(ROOT / "resources/example_data", tmp_path / "xrays")
    data = {"source": "import", "images": "xrays/images", "poses": "xrays/poses.csv"}
    cwd, _ = user_folder(tmp_path, {"data": data})
    jobs = planned(cwd)
    assert jobs["prepare_data"] == 1, jobs
    r = snakemake(cwd, "--cores", "1", "results/data/train.parquet")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert pd.read_parquet(cwd / "results/data/train.parquet")["x_mm"].isna().all()


def test_a_smoke_search_with_rungs_runs_as_a_module(tmp_path):
    """search.fidelity through the module, the whole run: 2 children a round train 1
    epoch, the better one continues to the budget's 2; the final stage retrains the
    last rung's best, and the report shows the rungs."""
    rungs = {**SMALLER, "search": {"children": 2, "fidelity": {"rungs": [1, 2], "eta": 2}}}
    cwd, _ = user_folder(tmp_path, rungs)
    jobs = planned(cwd)
    assert jobs["promote"] == 2 and jobs["train_rung1_0"] == 2, jobs
    r = snakemake(cwd, "--cores", "2")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    history = pd.read_parquet(cwd / "results/round_1/history.parquet")
    assert sorted(history["rung"]) == [0, 0, 1, 1] and history["curve"].str.len().gt(0).all()
    summary = pd.read_parquet(cwd / "results/final/summary.parquet").set_index("candidate")
    top = history[history["rung"] == 1].sort_values("value", ascending=False)
    assert summary.at["best1", "snap"] == top["snap"].iloc[0]
    rung_table = pd.read_csv(cwd / "results/report/rungs.csv")
    assert (cwd / "results/report/rungs.png").stat().st_size > 0
    assert (rung_table["epochs_spent"].dropna() < rung_table["epochs_flat"].dropna()).all()
