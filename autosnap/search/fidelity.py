"""Successive halving inside a round (Jamieson and Talwalkar, 2016; the rung schedule of
Li et al.'s Hyperband and ASHA): a round's K proposals train to the first rung's epochs,
the best 1/eta by validation value continue to the next rung, and so on; only the last
rung's children train the whole budget (`train.epochs`).

The DAG stays static: rung i of every round has a fixed number of places (`sizes`);
which children fill them is decided by `promote` once rung i - 1 is trained, and a
continuation resumes the cached training of the rung before (autosnap.training), so no
epoch is trained twice.

A child's row in the history is its row at the highest rung it reached, with `rung`
(that rung's index) and `curve` (epochs:value at every rung it reached). What learners
see (`at_rung`) is a choice made here once for every strategy and predictor: the values
of one rung only, the highest rung that at least K children of the history reached (as
BOHB fits its model on the largest budget with enough observations). A one-epoch value
is never ranked beside a four-epoch value as if they were one measurement; children
that stopped below that rung are known (never proposed again) but not ranked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The columns a history with rungs adds to the child columns.
RUNG_COLUMNS = ["rung", "curve"]


@dataclass(frozen=True)
class FidelityConfig:
    """`search.fidelity:` (off while `rungs` is empty)."""

    #: Epochs of each rung, ascending; the last is the whole budget (train.epochs).
    rungs: tuple[int, ...] = ()
    #: The best 1/eta of a rung continue to the next.
    eta: int = 2

    def __post_init__(self) -> None:
        if self.eta < 2:
            raise ValueError(f"eta must be at least 2, got {self.eta}")
        if any(r < 1 for r in self.rungs) or list(self.rungs) != sorted(set(self.rungs)):
            raise ValueError(f"rungs must be ascending epochs of at least 1, got "
                             f"{list(self.rungs)}")  # fmt: skip

    @property
    def on(self) -> bool:
        return len(self.rungs) > 0

    def sizes(self, k: int) -> list[int]:
        """Places per rung: K, then each rung 1/eta of the one before (at least 1)."""
        out = [k]
        for _ in self.rungs[1:]:
            out.append(max(1, out[-1] // self.eta))
        return out

    def check_budget(self, epochs: int) -> None:
        """The last rung is the whole budget: what the final stage ranks is one measurement."""
        if self.on and self.rungs[-1] != epochs:
            raise ValueError(f"the last of search.fidelity.rungs {list(self.rungs)} must be "
                             f"train.epochs ({epochs})")  # fmt: skip


def promote(children: pd.DataFrame, n: int) -> pd.DataFrame:
    """The `n` children of a rung that continue: the best by validation value (failed
    ones last, ties by slot), as the next rung's proposals with slots 0..n-1."""
    ok = (children["status"] == "ok") & np.isfinite(children["value"].astype(float))
    order = children.assign(_ok=ok).sort_values(
        ["_ok", "value", "slot"], ascending=[False, False, True], kind="stable"
    )
    picked = order.head(n).drop(columns="_ok").reset_index(drop=True)
    return picked.assign(slot=range(len(picked)))


def merge_rungs(proposals: pd.DataFrame, rungs: Sequence[pd.DataFrame],
                epochs: Sequence[int]) -> pd.DataFrame:  # fmt: skip
    """One row per proposal: its row at the highest rung it reached (round and slot the
    proposal's), with `rung` and `curve` ("1:0.4123 2:0.4410", epochs:value)."""
    rows = []
    for p in proposals.itertuples():
        reached, curve = None, []
        for i, table in enumerate(rungs):
            hit = table[table["snap_id"] == p.snap_id]
            if hit.empty:
                break
            reached = (i, hit.iloc[0].to_dict())
            curve.append(f"{epochs[i]}:{float(hit.iloc[0]['value']):.6g}")
        i, row = reached
        rows.append({**row, "round": p.round, "slot": p.slot, "origin": p.origin, "rung": i,
                     "curve": " ".join(curve)})  # fmt: skip
    return pd.DataFrame(rows)


def top_rung(history: pd.DataFrame) -> pd.DataFrame:
    """The children that reached the history's last rung (all of them without rungs):
    the ones trained on the whole budget, which the final stage ranks."""
    if "rung" not in history.columns or history["rung"].isna().all():
        return history
    return history[history["rung"] == history["rung"].max()]


def curve_of(text: str) -> dict[int, float]:
    """`curve` as {epochs: value}."""
    return {int(e): float(v) for e, v in (pair.split(":") for pair in str(text).split())}


def at_rung(history: pd.DataFrame | None, k: int) -> pd.DataFrame | None:
    """What learners see of a history with rungs: `value` at one rung, the highest that
    at least `k` children reached; NaN for the children below it (known, not ranked).
    A history without rungs is returned as it is."""
    if history is None or "curve" not in history.columns or history["curve"].eq("").all():
        return history
    curves = [curve_of(c) for c in history["curve"].fillna("")]
    reached = pd.Series([e for c in curves for e in c]).value_counts()
    enough = sorted(e for e, n in reached.items() if n >= k)
    level = enough[-1] if enough else min(reached.index)
    values = [c.get(level, np.nan) for c in curves]
    return history.assign(value=values)
