"""The final comparison: the best SNAPs found and the baselines, retrained with the
full budget over several seeds and scored on the test split.

Candidates are named statically so the workflow's DAG is known before the search runs:
`best1`..`bestN` (the search's best by validation value, read from the last history),
the baselines `i3posnet` (hand-designed, autosnap.baselines) and `resnet` (the SNAP
`dup c3 c3 add`), and `random` (the best of a random search with the same number of
children, when `final.random_search` asks for one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from autosnap.baselines import HAND_DESIGNED, HandDesigned
from autosnap.errors import InputError
from autosnap.snap import Snap
from autosnap.strategies import evaluated
from autosnap.tables import CHILD_COLUMNS, read_table, write_table

#: Hand-designed SNAPs compared with the search's result.
BASELINE_SNAPS = {"resnet": "dup c3 c3 add"}
BASELINES = ("i3posnet", *BASELINE_SNAPS)
FINAL_COLUMNS = ["candidate", *CHILD_COLUMNS]
METRICS = ["value", "landmark_err_mm", "position_err_mm", "angle_err_deg"]


@dataclass(frozen=True)
class FinalConfig:
    """The `final:` section of a config."""

    #: How many of the best SNAPs found are retrained.
    top: int = 3
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    #: Overrides of the `train:` section for the full budget (for example more epochs).
    train: dict = field(default_factory=dict)
    baselines: list[str] = field(default_factory=lambda: ["i3posnet", "resnet"])
    #: Also run a random search with the search's budget (rounds x children) and retrain
    #: its best as candidate `random`.
    random_search: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.baselines) - set(BASELINES))
        if unknown:
            raise ValueError(f"unknown baseline(s) {unknown}, expected some of {list(BASELINES)}")
        if not self.seeds:
            raise ValueError("seeds must list at least one seed")

    @property
    def candidates(self) -> list[str]:
        found = [f"best{i}" for i in range(1, self.top + 1)]
        return found + (["random"] if self.random_search else []) + list(self.baselines)


def candidate_arch(candidate: str, history: str | Path, max_len: int) -> Snap | HandDesigned | None:
    """What a candidate trains: a baseline, or the i-th best SNAP of `history` by
    validation value (`random`: the best of the random search's history); None when the
    history has fewer successful children."""
    if candidate in HAND_DESIGNED:
        return HandDesigned(candidate)
    if candidate in BASELINE_SNAPS:
        return Snap.parse(BASELINE_SNAPS[candidate], max_len)
    if candidate == "random":
        rank = 1
    elif candidate.startswith("best") and candidate[4:].isdigit():
        rank = int(candidate[4:])
    else:
        raise InputError(f"unknown final candidate '{candidate}'")
    best = evaluated(read_table(history, CHILD_COLUMNS)).sort_values("value", ascending=False)
    return Snap.parse(best["snap"].iloc[rank - 1], max_len) if rank <= len(best) else None


def summarise(tables: list[str | Path], out: str | Path) -> pd.DataFrame:
    """Mean and standard deviation over seeds per candidate, in the order of the tables."""
    runs = pd.concat([read_table(p, FINAL_COLUMNS) for p in tables], ignore_index=True)
    rows = []
    for cand, g in runs.groupby("candidate", sort=False):
        ok = g[g["status"] == "ok"]
        row = {"candidate": cand, "snap": g["snap"].iloc[0], "snap_id": g["snap_id"].iloc[0],
               "seeds": len(g), "seeds_ok": len(ok)}  # fmt: skip
        for m in METRICS:
            row[f"{m}_mean"] = ok[m].mean() if len(ok) else np.nan
            row[f"{m}_std"] = ok[m].std(ddof=1) if len(ok) > 1 else np.nan
        for m in ("params", "macs", "latency_ms"):
            row[m] = g[m].mean()
        rows.append(row)
    df = pd.DataFrame(rows)
    write_table(df, out)
    return df
