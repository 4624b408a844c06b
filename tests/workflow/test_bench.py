"""SNAP-Bench through the workflow: the closed space becomes proposal tables, trained in
chunks by the same training rules as a search, and joined into one table."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from helpers import ROOT, workdir
from test_workflow import planned, snakemake

from autosnap.space.bench import BenchConfig, bench_config, members, noise_members
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
    train = {r for r in jobs if r.startswith("train_bench_") and "top" not in r}
    top = {r for r in jobs if r.startswith("train_bench_top_")}
    assert n == 2016 and extra == 202 and round(bench.top_fraction * n) == 202
    assert len(train) == -(-n // chunk) + 2 * -(-extra // chunk)
    assert len(top) == 3 * -(-202 // chunk) and jobs["bench_top_proposals"] == 3
    assert jobs["bench_table"] == 1 and jobs["bench_denoised"] == 1
    assert "train_child_0" not in jobs


def test_denoising_the_committed_table_trains_only_its_top(tmp_path):
    cwd = workdir(tmp_path)
    (cwd / "benchmarks/results").mkdir(parents=True)
    committed = "benchmarks/results/snapbench_table.parquet"
    (cwd / committed).write_bytes((ROOT / committed).read_bytes())
    jobs = planned(cwd, "--configfile", "config/snapbench.yaml", "config/snapbench_denoise.yaml",
                   "--cores", "2", "bench")  # fmt: skip
    assert "bench_table" not in jobs and jobs["bench_denoised"] == 1
    assert all("top" in r for r in jobs if r.startswith("train_bench_")), jobs


def small_bench(cwd, **bench) -> dict:
    """A 10-member bench over the smoke data, 3 steps a child (first seed 5, the noise
    share 0.2 again with seed 6), `bench` laid over its bench section."""
    smoke = yaml.safe_load((cwd / "config/smoke.yaml").read_text())
    return {
        "data": smoke["data"],
        "train": {"steps": 3, "width": 4, "stages": 1, "threads": 1, "seed": 5},
        "search": {"max_len": 3},
        "bench": {"max_len": 3, "symbols": list(SYMBOLS), "noise_fraction": 0.2,
                  "noise_seeds": [6], "seed": 0, **bench},
        "resources": {"chunk": 4},
    }  # fmt: skip


def test_a_small_bench_trains_every_member_and_records_its_budget(tmp_path):
    cwd = workdir(tmp_path)
    smoke = yaml.safe_load((cwd / "config/smoke.yaml").read_text())
    cfg = small_bench(cwd)
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


def test_denoising_trains_the_top_share_again_from_a_finished_table(tmp_path):
    """bench.top_fraction and top_seeds train the table's best share again and pool the
    seeds; bench.table starts from a finished table (a committed one) without training
    its members, and refuses one made with another budget."""
    cwd = workdir(tmp_path / "first")
    cfg = small_bench(cwd, top_fraction=0.3, top_seeds=[7, 8])
    (cwd / "bench.yaml").write_text(yaml.safe_dump(cfg))
    r = snakemake(cwd, "--configfile=bench.yaml", "--cores", "2", "bench")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    first = pd.read_parquet(cwd / "results/bench/table.parquet")
    out = pd.read_parquet(cwd / "results/bench/denoised.parquet").set_index("snap_id")
    top = first.sort_values(["value", "snap_id"], ascending=[False, True]).head(3)
    assert (out.loc[top["snap_id"], "seeds"] >= 3).all()
    assert (out.drop(index=top["snap_id"])["seeds"] <= 2).all()
    children = pd.concat([pd.read_parquet(p) for p in (cwd / "results/bench").glob(
        "*seed_*/children/*.parquet")])  # fmt: skip
    for snap_id in top["snap_id"]:
        mine = children[children["snap_id"] == snap_id]
        assert set(mine["seed"]) >= {5, 7, 8}
        assert out.at[snap_id, "value_mean"] == pytest.approx(mine["value"].mean())
    assert out.attrs["top_seeds"] == [7, 8] and out.attrs["top_members"] == 3
    assert out.attrs["top_code_version"].startswith("0.")

    # a second folder, from the finished table alone: only the top seed trains
    again = workdir(tmp_path / "again")
    (again / "given.parquet").write_bytes((cwd / "results/bench/table.parquet").read_bytes())
    cfg["bench"] = {**cfg["bench"], "top_seeds": [9], "table": "given.parquet"}
    (again / "bench.yaml").write_text(yaml.safe_dump(cfg))
    jobs = planned(again, "--configfile=bench.yaml", "bench")
    assert not any(j.startswith("train_bench_") and "top" not in j for j in jobs), jobs
    assert jobs["bench_top_proposals"] == 1 and jobs["bench_denoised"] == 1
    r = snakemake(again, "--configfile=bench.yaml", "--cores", "2", "bench")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (pd.read_parquet(again / "results/bench/denoised.parquet")["seeds"] >= 2).sum() >= 3
    cfg["train"]["steps"] = 4  # another budget: new seeds would not be comparable
    (again / "other.yaml").write_text(yaml.safe_dump(cfg))
    r = snakemake(again, "--configfile=other.yaml", "--cores", "1", "--forceall", "bench")
    assert r.returncode != 0 and "given.parquet: made with other train.steps" in r.stdout + r.stderr
    cfg["train"]["steps"] = 3
    cfg["bench"]["max_len"] = 2  # another space: the planned slots would not match
    (again / "space.yaml").write_text(yaml.safe_dump(cfg))
    r = snakemake(again, "--configfile=space.yaml", "--cores", "1", "--forceall", "bench")
    assert r.returncode != 0 and "given.parquet: 10 members, but the bench section's space" in (
        r.stdout + r.stderr
    )
