"""How a search is doing, read from its results folder while it runs (`autosnap status`).

Only files the stages write atomically are read, so a half-written table is never seen:
proposals and child tables per round, the value models' metrics, and the child cache's
start markers (a child being trained right now)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from autosnap.errors import InputError
from autosnap.search.compare import kendall
from autosnap.tables import read_table

STATUS_COLUMNS = [
    "round", "proposed", "done", "ok", "failed", "waiting", "best_value", "best_snap",
    "heldout_tau", "tau_of_proposals",
]  # fmt: skip


def search_status(results: str | Path) -> tuple[pd.DataFrame, int]:
    """One row per round (STATUS_COLUMNS; best so far over rounds 0..r; heldout_tau: the
    round's value model on held-out children; tau_of_proposals: the previous round's
    model's predicted values against this round's trained children), and how many
    children are training now."""
    results = Path(results)
    rounds = sorted(
        (int(m.group(1)), p)
        for p in results.glob("round_*")
        if (m := re.fullmatch(r"round_(\d+)", p.name)) and (p / "proposals.parquet").exists()
    )
    if not rounds:
        raise InputError(f"{results}: no round_*/proposals.parquet (is this a results folder?)")
    rows, best, best_snap = [], -np.inf, ""
    for r, folder in rounds:
        props = read_table(folder / "proposals.parquet")
        done = [read_table(p) for p in sorted((folder / "children").glob("*.parquet"))]
        children = pd.concat(done, ignore_index=True) if done else pd.DataFrame(
            columns=["snap", "status", "value", "slot"]
        )  # fmt: skip
        ok = children[children["status"] == "ok"]
        if len(ok) and ok["value"].max() > best:
            best, best_snap = float(ok["value"].max()), str(ok.loc[ok["value"].idxmax(), "snap"])
        metrics = folder / "value_model.parquet"
        tau = read_table(metrics)["kendall_tau"].iloc[0] if metrics.exists() else np.nan
        merged = props.merge(children[["slot", "value"]], on="slot", how="inner")
        rows.append({
            "round": r, "proposed": len(props), "done": len(children), "ok": len(ok),
            "failed": len(children) - len(ok), "waiting": len(props) - len(children),
            "best_value": best if np.isfinite(best) else np.nan, "best_snap": best_snap,
            "heldout_tau": float(tau),
            "tau_of_proposals": kendall(merged["predicted_value"], merged["value"]),
        })  # fmt: skip
    cache = results / "cache" / "children"
    training = len(list(cache.glob("*.started"))) if cache.exists() else 0
    return pd.DataFrame(rows, columns=STATUS_COLUMNS), training


def format_status(table: pd.DataFrame, training: int) -> str:
    """Plain text of search_status (also what a job log or a pipe gets)."""
    shown = table.copy()
    for col in ("best_value", "heldout_tau", "tau_of_proposals"):
        shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"{v:.3f}")
    return f"{shown.to_string(index=False)}\nchildren training now: {training}"
