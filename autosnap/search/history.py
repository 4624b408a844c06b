"""Queries on the history of trained children (docs/design.md's history table), shared by the
strategies, the final comparison and the report."""

from __future__ import annotations

import numpy as np
import pandas as pd


def evaluated(history: pd.DataFrame | None) -> pd.DataFrame:
    """The children that trained successfully, one row per snap_id, in training order."""
    if history is None or history.empty:
        return pd.DataFrame(columns=["snap", "snap_id", "value", "round", "slot"])
    ok = history[(history["status"] == "ok") & np.isfinite(history["value"])]
    return ok.sort_values(["round", "slot"]).drop_duplicates("snap_id")


def known_ids(history: pd.DataFrame | None) -> set[str]:
    """Every snap_id already trained (failed ones included: they would fail again)."""
    return set() if history is None or history.empty else set(history["snap_id"])


def ranked(history: pd.DataFrame | None) -> pd.DataFrame:
    """The successful children, best validation value first (rank 1 is row 0)."""
    return evaluated(history).sort_values("value", ascending=False)
