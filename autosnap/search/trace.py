"""The trace of a search, read the same way everywhere (the report, `autosnap status`,
the benchmarks): the best value found so far, child by child, and how well each round's
predicted values ranked the children they proposed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autosnap.search.rank import kendall


def best_so_far(children: pd.DataFrame) -> pd.DataFrame:
    """Children in the order they were evaluated -> `best_so_far` (the highest value of a
    successful child so far; NaN before the first) and `best_snap_id` (the child that
    first reached it: a later tie does not replace it)."""
    value = children["value"].where(children["status"] == "ok")
    best = value.cummax()
    improved = value > best.shift(fill_value=-np.inf).fillna(-np.inf)
    snap = children["snap_id"].where(improved).ffill()
    return pd.DataFrame({"best_so_far": best, "best_snap_id": snap}, index=children.index)


def proposal_tau(proposals: pd.DataFrame, children: pd.DataFrame) -> float:
    """Kendall tau of a round's predicted values against what its children scored,
    paired by slot (NaN where fewer than 3 pairs have both)."""
    pairs = proposals[["slot", "predicted_value"]].merge(children[["slot", "value"]], on="slot")
    return kendall(pairs["predicted_value"], pairs["value"])
