"""The final comparison: the best SNAPs found and the baselines, retrained with the
full budget over several seeds and scored on the test split.

Candidates are named statically so the workflow's DAG is known before the search runs
(training.config.FinalConfig.candidates): `best1`..`bestN` (the search's best by
validation value, read from the last history), the baselines `i3posnet` and `resnet`
(autosnap.models.baselines), and `random` (the best of a random search with the same
number of children, when `final.random_search` asks for one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from autosnap.config import from_dict
from autosnap.errors import InputError
from autosnap.models.baselines import BASELINE_SNAPS, HAND_DESIGNED, HandDesigned
from autosnap.models.factory import Architecture
from autosnap.pipeline.recommend import recommend
from autosnap.progress import log
from autosnap.search.config import search_config
from autosnap.search.fidelity import top_rung
from autosnap.search.history import ranked
from autosnap.space.snap import Snap
from autosnap.tables import CHILD_COLUMNS, VAL_COLUMNS, read_table, write_table
from autosnap.training.config import FinalConfig
from autosnap.training.runner import train_snaps
from autosnap.training.trainer import result_row

FINAL_COLUMNS = ["candidate", *CHILD_COLUMNS]
#: A final run scores the test split (its value and errors) and the validation split's
#: landmark error as well (VAL_COLUMNS), which picks the model to export.
METRICS = ["value", "landmark_err_mm", "position_err_mm", "angle_err_deg", *VAL_COLUMNS]


def candidate_arch(candidate: str, history: str | Path | None, max_len: int
                   ) -> Architecture | None:  # fmt: skip
    """What a candidate trains: a baseline, or the i-th best SNAP of `history` by
    validation value (`random`: the best of the random search's history); None when the
    history has fewer successful children. A baseline needs no history."""
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
    best = ranked(top_rung(read_table(history, CHILD_COLUMNS)))  # the whole budget's
    return Snap.parse(best["snap"].iloc[rank - 1], max_len) if rank <= len(best) else None


def final_run(
    candidate: str,
    seed: int,
    history: str | Path | None,
    data_dir: str | Path,
    train: dict | None,
    final: dict | None,
    search: dict | None,
    out: str | Path,
    cache_dir: str | Path | None = None,
    weights: str | Path | None = None,
    random_history: str | Path | None = None,
    attempt: int = 1,
    **overrides: object,
) -> dict:
    """Retrain one final candidate with one seed on the full budget (the `train:`
    section, `final.train` and `overrides` on top), scored on test; with `weights`,
    keep the trained network there (autosnap.training.checkpoint)."""
    fcfg = from_dict(FinalConfig, final, "final")
    cfg = fcfg.train_config({**(train or {}), **overrides}, seed)
    source = random_history if candidate == "random" else history
    arch = candidate_arch(candidate, source, search_config(search).max_len)
    meta = {"candidate": candidate, "round": -1, "slot": -1, "origin": "final"}
    if arch is None:
        error = f"{source} has fewer successful children than {candidate} needs"
        row = {**result_row(None, meta, seed, "", "no_candidate", error),
               **dict.fromkeys(VAL_COLUMNS, np.nan)}  # fmt: skip
        write_table(pd.DataFrame([row])[FINAL_COLUMNS + VAL_COLUMNS], out)
        return row
    (row,) = train_snaps([arch], [meta], [out], data_dir, cfg, "test", FINAL_COLUMNS, cache_dir,
                         None if weights is None else [weights], attempt, also="val")  # fmt: skip
    return row


def retrain(
    snap: str,
    out_dir: Path,
    data_dir: str | Path,
    train: dict | None,
    final: dict | None,
    search: dict | None,
    seed: int | None = None,
) -> Path:
    """Train a SNAP given as text on the final budget (seed: `final.seeds[0]` unless
    given), scored on test, and return its checkpoint `out_dir/checkpoint.pt` (what
    `autosnap export SNAP` exports)."""
    fcfg = from_dict(FinalConfig, final, "final")
    seed = fcfg.seeds[0] if seed is None else seed
    snap_ = Snap.parse(snap, search_config(search).max_len)
    meta = {"candidate": "cli", "round": -1, "slot": -1, "origin": "cli"}
    (row,) = train_snaps([snap_], [meta], [out_dir / "checkpoint.parquet"], data_dir,
                         fcfg.train_config(train, seed), "test", FINAL_COLUMNS,
                         weights=[out_dir / "checkpoint.pt"])  # fmt: skip
    if row["status"] != "ok":
        raise InputError(f"training '{snap}' failed ({row['status']}): {row['error']}")
    return out_dir / "checkpoint.pt"


def summarise(tables: list[str | Path], out: str | Path) -> pd.DataFrame:
    """Mean and standard deviation over seeds per candidate, in the order of the tables,
    and the candidate and seed recommended for export (`recommended`,
    `recommended_seed`: autosnap.pipeline.recommend)."""
    runs = pd.concat([read_table(p, FINAL_COLUMNS) for p in tables], ignore_index=True)
    for col in VAL_COLUMNS:  # final runs from before the validation split was scored
        if col not in runs.columns:
            runs[col] = np.nan
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
    try:
        pick = recommend(runs, str(Path(out).parent))
    except InputError as e:  # the table is still worth keeping; export says why it cannot
        log.warning("%s", e)
        pick = None
    df["recommended"] = df["candidate"] == (pick.candidate if pick else None)
    df["recommended_seed"] = np.where(df["recommended"], pick.seed if pick else -1, -1)
    write_table(df, out)
    return df
