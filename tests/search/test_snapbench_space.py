"""SNAP-Bench's space: each architecture once, the noise share, its table, the noise ratio
and the de-noised table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autosnap.errors import InputError
from autosnap.space.bench import (
    BenchConfig,
    bench_table,
    denoised_table,
    members,
    noise_members,
    noise_ratio,
    top_members,
)
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


def test_denoising_pools_the_new_seeds_into_mean_and_sd():
    """The top share's new seeds join what the table holds: the pooled mean and sd are
    those of every seed's value, though the table keeps only their summary."""
    rows = []
    values = {"a": [0.1], "b": [0.5, 0.52, 0.48], "c": [0.9]}  # b: a noise member
    for sid, vals in values.items():
        for seed, v in enumerate(vals):
            rows.append({"snap": f"c3 {'c1 ' * (ord(sid) - 97)}".strip(), "snap_id": sid,
                         "seed": seed, "status": "ok", "value": v, "test_value": v + 0.01,
                         "landmark_err_mm": 1.0, "test_landmark_err_mm": 1.0, "params": 1,
                         "macs": 1, "train_seconds": 1.0})  # fmt: skip
    first = bench_table(pd.DataFrame(rows), 0)
    # the best two by first-seed value: c (0.9), then b (0.5, not its mean)
    assert [s.text for s in top_members(first, 2 / 3)] == ["c3 c1 c1", "c3 c1"]
    new = pd.DataFrame([{**rows[-1], "seed": 7, "value": 0.8, "test_value": 0.85},
                        {**rows[-1], "seed": 8, "value": 0.7, "test_value": 0.75},
                        {**rows[1], "seed": 7, "value": 0.6, "test_value": 0.65}])  # fmt: skip
    out = denoised_table(first, new).set_index("snap_id")
    assert out.at["c", "seeds"] == 3 and out.at["b", "seeds"] == 4 and out.at["a", "seeds"] == 1
    assert out.at["c", "value_mean"] == pytest.approx(np.mean([0.9, 0.8, 0.7]))
    assert out.at["b", "value_sd"] == pytest.approx(np.std([0.5, 0.52, 0.48, 0.6], ddof=1))
    assert out.at["c", "test_value_mean"] == pytest.approx(np.mean([0.91, 0.85, 0.75]))
    assert out.at["b", "test_seeds"] == 2  # the noise seeds' test values are not kept
    assert out.at["a", "value_mean"] == 0.1 and np.isnan(out.at["a", "value_sd"])
    assert out.at["c", "value"] == 0.9  # the first seed's, as a search saw it


def test_a_top_share_larger_than_the_successful_members_is_refused():
    table = pd.DataFrame({"snap": ["c3", "c1", "mp"], "snap_id": ["a", "b", "c"],
                          "status": ["ok", "error", "error"],
                          "value": [0.5, np.nan, np.nan]})  # fmt: skip
    assert [s.text for s in top_members(table, 1 / 3)] == ["c3"]
    with pytest.raises(InputError, match="top 2 of 3 members are wanted, but only 1"):
        top_members(table, 2 / 3)
