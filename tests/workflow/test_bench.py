"""SNAP-Bench through the workflow: the closed space becomes proposal tables, trained in
chunks by the same training rules as a search, and joined into one table."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from helpers import ROOT, workdir
from test_workflow import planned, snakemake

from autosnap.search.bench import BenchConfig, bench_config, members, noise_members
from autosnap.tables import CHILD_COLUMNS

pytestmark = pytest.mark.slow
#: A small space with multi-branch blocks: 10 members up to 3 symbols.
SYMBOLS = ("c3", "dup", "add", "cat")


def test_the_snapbench_config_plans_every_member_in_chunks(tmp_path):
    cfg = yaml.safe_load((ROOT / "config/snapbench.yaml").read_text())
    jobs = planned(workdir(tmp_path), "--configfile=config/snapbench.yaml", "bench")
    bench = bench_config(cfg["bench"])
    n = len(members(bench))
    extra = len(noise_members(bench, n))
    chunk = cfg["resources"]["chunk"]
    train = {r: c for r, c in jobs.items() if r.startswith("train_bench_")}
    assert n == 2016 and extra == 202
    assert len(train) == -(-n // chunk) + 2 * -(-extra // chunk)
    assert jobs["bench_table"] == 1 and "train_child_0" not in jobs


def test_a_small_bench_trains_every_member_and_records_its_budget(tmp_path):
    cwd = workdir(tmp_path)
    smoke = yaml.safe_load((cwd / "config/smoke.yaml").read_text())
    cfg = {
        "data": smoke["data"],
        "train": {"steps": 3, "width": 4, "stages": 1, "threads": 1, "seed": 5},
        "search": {"max_len": 3},
        "bench": {
            "max_len": 3,
            "symbols": list(SYMBOLS),
            "noise_fraction": 0.2,
            "noise_seeds": [6],
            "seed": 0,
        },
        "resources": {"chunk": 4},
    }
    (cwd / "bench.yaml").write_text(yaml.safe_dump(cfg))
    r = snakemake(cwd, "--configfile=bench.yaml", "--cores", "2", "bench")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    table = pd.read_parquet(cwd / "results/bench/table.parquet")
    space = members(BenchConfig(max_len=3, symbols=SYMBOLS))
    assert len(space) == 10 and "dup c3 cat" in [s.text for s in space]
    assert sorted(table["snap_id"]) == sorted(s.snap_id for s in space)
    assert len(table) == len(space) and table["snap_id"].is_unique
    again = round(0.2 * len(space))  # the noise share, trained with seeds 5 and 6
    ok = table[table["status"] == "ok"]
    assert len(ok) == len(table)
    assert ok["value"].notna().all() and ok["test_value"].notna().all()
    assert (ok["value"] != ok["test_value"]).any()  # two splits, two scores
    assert sorted(table["seeds"].unique()) == [1, 2] and (table["seeds"] == 2).sum() == again
    child = pd.read_parquet(cwd / "results/bench/seed_6/children/0.parquet")
    assert child.loc[0, "seed"] == 6 and set(CHILD_COLUMNS) <= set(child.columns)
    meta = table.attrs
    assert meta["train"]["steps"] == 3 and meta["first_seed"] == 5
    assert meta["bench"]["noise_seeds"] == [6]
    assert meta["data"]["n_train"] == smoke["data"]["n_train"]
    assert meta["trainings"] == len(space) + again
    assert meta["code_version"].startswith("0.")
    assert meta["noise"]["members_with_seeds"] == again and meta["noise"]["ratio"] > 0
