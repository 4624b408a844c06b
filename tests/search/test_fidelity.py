"""Successive halving's pieces: rung sizes, who is promoted, the history's curves, and
what the learners see when children end at different rungs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autosnap.config import ConfigError
from autosnap.search.config import search_config
from autosnap.search.fidelity import (
    FidelityConfig,
    at_rung,
    curve_of,
    merge_rungs,
    promote,
    top_rung,
)
from autosnap.search.history import ranked


def children(values, status=None, ids=None) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({
        "round": 0, "slot": range(n), "snap": [f"s{i}" for i in range(n)],
        "snap_id": ids or [f"id{i}" for i in range(n)], "origin": "random",
        "status": status or ["ok"] * n, "value": values, "epochs": 1.0,
    })  # fmt: skip


def test_rungs_shrink_by_eta_and_end_at_the_budget():
    fid = FidelityConfig(rungs=(1, 2, 4), eta=2)
    assert fid.sizes(8) == [8, 4, 2] and FidelityConfig((1, 3), 3).sizes(8) == [8, 2]
    assert FidelityConfig((1, 2, 4, 8), 4).sizes(8) == [8, 2, 1, 1]
    fid.check_budget(4)
    with pytest.raises(ValueError, match=r"must be train.epochs \(6\)"):
        fid.check_budget(6)
    with pytest.raises(ConfigError, match="search.fidelity: rungs must be ascending"):
        search_config({"fidelity": {"rungs": [2, 2]}})
    with pytest.raises(ConfigError, match="search.fidelity: eta must be at least 2"):
        search_config({"fidelity": {"rungs": [1, 2], "eta": 1}})


def test_the_best_by_validation_value_are_promoted_failures_last():
    rung = children([0.3, np.nan, 0.5, 0.1, 0.5], ["ok", "diverged", "ok", "ok", "ok"])
    picked = promote(rung, 3)
    assert list(picked["snap"]) == ["s2", "s4", "s0"]  # ties by slot
    assert list(picked["slot"]) == [0, 1, 2]
    assert list(promote(rung, 5)["snap"])[-1] == "s1"  # a failed child only to fill


def test_a_childs_row_is_its_last_rung_with_its_curve():
    props = children([0.0] * 3).drop(columns=["status", "value", "epochs"])
    rung0 = children([0.2, 0.4, 0.3])
    rung1 = children([0.45], ids=["id1"]).assign(epochs=2.0, slot=0)
    merged = merge_rungs(props, [rung0, rung1], [1, 2])
    assert list(merged["rung"]) == [0, 1, 0] and list(merged["slot"]) == [0, 1, 2]
    assert list(merged["value"]) == [0.2, 0.45, 0.3]
    assert curve_of(merged["curve"].iloc[1]) == {1: 0.4, 2: 0.45}


def test_learners_see_one_rungs_values_the_highest_that_k_children_reached():
    """Children stopped at 1 epoch are never ranked beside children trained 4: the
    learners' view holds the values of one rung, the highest with K (here 2) children;
    the final stage ranks the children of the last rung."""
    history = children([0.9, 0.5, 0.6, 0.55]).assign(
        rung=[0, 2, 2, 1], curve=["1:0.9", "1:0.3 2:0.4 4:0.5", "1:0.2 2:0.5 4:0.6", "1:0.4 2:0.55"]
    )
    seen = at_rung(history, k=2)
    np.testing.assert_array_equal(seen["value"], [np.nan, 0.5, 0.6, np.nan])
    assert list(ranked(seen)["snap"]) == ["s2", "s1"]  # s0's 1-epoch 0.9 is not ranked
    seen3 = at_rung(history, k=3)  # three children reached 2 epochs
    np.testing.assert_array_equal(seen3["value"], [np.nan, 0.4, 0.5, 0.55])
    assert list(top_rung(history)["snap"]) == ["s1", "s2"]
    flat = children([0.1, 0.2])
    assert at_rung(flat, 2) is flat and top_rung(flat) is flat
