"""The strategy-comparison protocol and tabular searches (SNAP-Bench's machinery)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autosnap.search import compare
from autosnap.search.bench import BenchConfig, bench_table, members, noise_members, noise_ratio
from autosnap.search.config import ValueModelConfig
from autosnap.search.tabular import Lookup, run_search
from autosnap.space.snap import Snap, SnapGrammar, enumerate_snaps


def test_the_closed_space_holds_each_architecture_once():
    snaps = enumerate_snaps(3)
    ids = [s.snap_id for s in snaps]
    assert len(snaps) == 422 and len(set(ids)) == len(ids)
    assert [s.text for s in snaps] == [s.text for s in enumerate_snaps(3)]  # fixed order
    assert all(len(s.symbols) <= 3 and Snap.parse(s.text, 3) for s in snaps)
    # every valid SNAP of at most 3 symbols has its architecture in the space
    g = SnapGrammar(max_len=3)
    for seq in (["dup", "c3", "add"], ["dup", "c3", "swap"][:2] + ["cat"], ["mp", "c1"]):
        assert Snap(tuple(seq)).snap_id in ids, seq
        assert g.key(seq) in ids
    assert len(enumerate_snaps(4)) == 3377


def test_noise_members_are_a_fixed_share():
    cfg = BenchConfig(max_len=2, noise_fraction=0.2, seed=3)
    n = len(members(cfg))
    picked = noise_members(cfg, n)
    assert len(picked) == round(0.2 * n) and picked == noise_members(cfg, n)
    assert picked != noise_members(BenchConfig(max_len=2, noise_fraction=0.2, seed=4), n)


def test_bench_table_and_noise_ratio():
    rows = []
    for sid, base in (("a", 0.1), ("b", 0.5), ("c", 0.9)):
        rows.append({"snap": sid, "snap_id": sid, "seed": 0, "status": "ok", "value": base,
                     "test_value": base, "landmark_err_mm": 1.0, "test_landmark_err_mm": 1.0,
                     "params": 1, "macs": 1, "train_seconds": 1.0})  # fmt: skip
    rows.append({**rows[1], "seed": 1, "value": 0.52})
    rows.append({**rows[1], "seed": 2, "value": 0.48})
    df = pd.DataFrame(rows)
    table = bench_table(df, 0)
    assert list(table["snap_id"]) == ["a", "b", "c"]
    assert list(table["seeds"]) == [1, 3, 1]
    assert table.set_index("snap_id").at["b", "value"] == 0.5  # the first seed's
    r = noise_ratio(df, 0)
    assert r["between_sd"] == pytest.approx(0.4)
    assert r["within_sd"] == pytest.approx(0.02) and r["ratio"] == pytest.approx(20)


def test_paired_counts_wins_ties_losses_and_tests_them():
    seeds = range(20)
    a = [0.01 * (s % 3) for s in seeds]  # a is better on most seeds
    b = [x + (0.05 if s % 5 else 0.0) for s, x in zip(seeds, a, strict=True)]
    reg = pd.DataFrame({"strategy": ["a"] * 20 + ["b"] * 20, "seed": [*seeds, *seeds],
                        "queries": 100, "regret": a + b})  # fmt: skip
    out = compare.paired(reg, "a", "b")
    assert (out["wins"], out["ties"], out["losses"]) == (16, 4, 0)
    assert out["p"] < 0.001
    assert compare.paired(reg, "b", "a")["losses"] == 16
    same = compare.paired(reg.assign(regret=0.0), "a", "b")
    assert same["ties"] == 20 and same["p"] == 1.0


def test_regret_and_percentile():
    curves = pd.DataFrame({"strategy": "s", "seed": [0, 0, 1, 1], "queries": [50, 100, 50, 100],
                           "best_valid": [0.5, 0.8, 0.7, 0.9]})  # fmt: skip
    reg = compare.regrets(curves, 0.9, [50, 100])
    assert np.allclose(reg["regret"], [0.4, 0.1, 0.2, 0.0])
    summ = compare.summary(reg)
    assert list(summ["regret_mean"].round(6)) == [0.3, 0.05]
    pct = compare.percentile(pd.Series([0.5, 0.9]), np.array([0.1, 0.5, 0.7, 0.9]))
    assert list(pct) == [50.0, 100.0]
    assert list(compare.pairs(reg).columns[-3:]) == ["losses", "p", "mean_diff"]  # no pair
    assert compare.query_counts(100) == [50, 100]
    assert compare.query_counts(70) == [50]
    assert compare.query_counts(30) == [30]  # a short check run: its last count


@pytest.fixture(scope="module")
def toy_table() -> Lookup:
    """A closed space with a smooth, known value: more weighted symbols is better."""
    snaps = enumerate_snaps(3)
    rng = np.random.default_rng(0)
    values = {}
    for s in snaps:
        v = sum(sym in ("c3", "s5") for sym in s.symbols) / 3 + 0.05 * rng.random()
        values[s.snap_id] = (v, v + 0.01)
    top = sorted(((tuple(s.symbols), values[s.snap_id][0]) for s in snaps), key=lambda t: -t[1])
    return Lookup(SnapGrammar(max_len=3), values, tuple(top[:42]))


def test_a_stopped_strategy_benchmark_keeps_its_finished_searches(toy_table, tmp_path):
    """benchmarks/variants.run_all writes each search as it ends: a rerun after a stop
    runs only what is missing and gives the same curves; another budget reuses nothing."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from variants import run_all

    vm = ValueModelConfig(hidden=32, steps=30, random_pool=30)
    names = ["evolution", "autosnap+pool"]
    first, pred = run_all(toy_table, names, 2, 0, 2, 4, vm, 1, tmp_path)
    files = sorted(tmp_path.glob("*.json"))
    assert len(files) == 4 and set(first["strategy"]) == set(names)
    assert set(pred["strategy"]) == {"autosnap+pool"}
    files[0].unlink()  # the one search a stop lost
    kept = {f: f.stat().st_mtime_ns for f in files[1:]}
    again, _ = run_all(toy_table, names, 2, 0, 2, 4, vm, 1, tmp_path)
    pd.testing.assert_frame_equal(first, again)
    assert files[0].exists() and all(f.stat().st_mtime_ns == t for f, t in kept.items())
    run_all(toy_table, names, 2, 0, 2, 5, vm, 1, tmp_path)  # 5 queries a round: all anew
    assert len(list(tmp_path.glob("*.json"))) == 8
    held_out, _ = run_all(toy_table, names, 2, 5, 2, 4, vm, 1, tmp_path)  # seeds 5 and 6
    assert set(held_out["seed"]) == {5, 6} and len(list(tmp_path.glob("*.json"))) == 12


def test_a_benchmark_search_is_keyed_by_its_code_not_its_comments(tmp_path):
    """benchmarks/variants.source_digest (in every search's work key) changes with the
    code a search runs, not with a docstring, a comment or the layout."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from variants import code_digest, source_digest

    src = tmp_path / "ascent.py"
    versions = {
        "code": 'def step(x):\n    """Move."""\n    return x + 1  # one unit\n',
        "reworded": '"""Ascent."""\n\n\ndef step(x):\n    """Move up."""\n    return (x + 1)\n',
        "changed": 'def step(x):\n    """Move."""\n    return x + 2  # one unit\n',
    }
    keys = {}
    for name, text in versions.items():
        src.write_text(text)
        keys[name] = source_digest([src], tmp_path)
    assert keys["code"] == keys["reworded"] != keys["changed"]
    assert len(code_digest()) == 10  # the package's search code parses
    assert code_digest(("stages.py",)) != code_digest()  # the demo's key holds its stages


def test_the_ablation_table_reads_each_variant_against_the_baselines(toy_table, tmp_path):
    """benchmarks/summary.py's ablation rows come from the protocol's own tables: one row
    per variant in variants.py's order, W/T/L seen from the variant whichever way round
    the pairs table holds it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from summary import _ablation
    from variants import run_all

    vm = ValueModelConfig(hidden=32, steps=30, random_pool=30)
    names = ["random", "autosnap+pool+credit", "autosnap+pool", "autosnap"]
    curves, pred = run_all(toy_table, names, 3, 0, 2, 4, vm, 1, tmp_path / "work")
    reg = compare.regrets(curves, toy_table.best_valid, [4, 8])
    pairs = compare.pairs(reg, first="random")  # random first: every pair the other way
    table = "\n".join(_ablation(compare.summary(reg), pairs, pred))
    rows = [line for line in table.splitlines() if line.startswith("| autosnap")]
    cells = [[c.strip() for c in r.split("|")] for r in rows]
    assert [c[1] for c in cells] == ["autosnap", "autosnap+pool", "autosnap+pool+credit"]
    r = pairs[(pairs["queries"] == 8) & (pairs["b"] == "autosnap+pool")].iloc[0]
    assert r["a"] == "random"
    assert f"{r['losses']}/{r['ties']}/{r['wins']}, {r['p']:.2g}" in rows[1]
    # each row against the variant it changes: the row above, or variants.CHANGES
    header = [c.strip() for c in table.splitlines()[-len(rows) - 2].split("|")]
    changes = header.index("changes")
    assert [c[changes] for c in cells] == ["", "autosnap", "autosnap+pool"]


def test_tabular_searches_share_round_zero_and_query_only_members(toy_table):
    vm = ValueModelConfig(hidden=32, steps=30, random_pool=30)
    runs = {}
    predictor: list[dict] = []
    for strategy in ("autosnap", "evolution", "random"):
        log = predictor if strategy == "autosnap" else None
        runs[strategy] = list(run_search(toy_table, strategy, 7, 3, 6, vm, log))
    for strategy, qs in runs.items():
        assert [q.queries for q in qs] == list(range(1, 19)), strategy
        assert len({q.snap for q in qs}) == 18  # never the same architecture twice
        best = [q.best_valid for q in qs]
        assert best == sorted(best)
        assert all(Snap.parse(q.snap, 3).snap_id in toy_table.values for q in qs)
    round0 = {s: [q.snap for q in qs if q.round == 0] for s, qs in runs.items()}
    assert round0["autosnap"] == round0["evolution"] == round0["random"]
    assert [p["round"] for p in predictor] == [0, 1]
    assert all(-1 <= p["tau_top10"] <= 1 and -1 <= p["tau_next"] <= 1 for p in predictor)


def test_two_budgets_pair_each_model_search_with_itself(toy_table, tmp_path):
    """benchmarks/budgets.py pairs a model strategy across two budgets by seed, and
    refuses folders whose model-free strategies differ (not the same searches)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from budgets import budget_pairs
    from variants import run_all

    names = ["evolution", "autosnap"]
    base, _ = run_all(toy_table, names, 3, 0, 2, 4, ValueModelConfig(hidden=32, steps=30,
                      random_pool=30), 1, tmp_path / "a")  # fmt: skip
    other, _ = run_all(toy_table, names, 3, 0, 2, 4, ValueModelConfig(hidden=32, steps=15,
                       random_pool=30), 1, tmp_path / "b")  # fmt: skip
    table = budget_pairs(base, other)
    assert list(table["strategy"]) == ["autosnap"] and table.at[0, "seeds"] == 3
    assert table.at[0, "wins"] + table.at[0, "ties"] + table.at[0, "losses"] == 3
    evolution = other["strategy"] == "evolution"
    shifted = other.assign(best_valid=other["best_valid"] + 0.01 * evolution)
    with pytest.raises(SystemExit, match="evolution differs"):
        budget_pairs(base, shifted)
