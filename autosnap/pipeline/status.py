"""How a search is doing, read from its results folder while it runs (`autosnap status`),
and what it found once the final comparison exists (also printed at the end of a run).

Only files the stages write atomically are read, so a half-written table is never seen:
proposals and child tables per round, the value models' metrics, the child cache's
start markers (a child being trained right now) and the final summary."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from autosnap.errors import InputError
from autosnap.search.rank import kendall
from autosnap.tables import read_table

STATUS_COLUMNS = [
    "round", "proposed", "done", "ok", "failed", "waiting", "best_value", "best_snap",
    "heldout_tau", "tau_of_proposals",
]  # fmt: skip


#: Why a tau column shows "-", by cause (format_status prints the causes it met).
NO_TAU = {
    "no_holdout": "heldout_tau -: no child was held out of the fit (value_model.holdout "
    "is 0, as in the demo, or too few children); tau_of_proposals measures the model",
    "no_model": "heldout_tau -: no value model fitted after this round (the last round, a "
    "fit still to come, or a strategy without a model)",
    "no_prediction": "tau_of_proposals -: the round's proposals carry no predicted values "
    "(round 0 is random; random and evolution predict nothing) or no child is done yet",
}


def search_status(results: str | Path) -> tuple[pd.DataFrame, int, list[str]]:
    """One row per round (STATUS_COLUMNS; best so far over rounds 0..r; heldout_tau: the
    round's value model on held-out children; tau_of_proposals: the previous round's
    model's predicted values against this round's trained children), how many children
    are training now, and why a tau is missing where one is (NO_TAU's lines)."""
    results = Path(results)
    rounds = sorted(
        (int(m.group(1)), p)
        for p in results.glob("round_*")
        if (m := re.fullmatch(r"round_(\d+)", p.name)) and (p / "proposals.parquet").exists()
    )
    if not rounds:
        raise InputError(f"{results}: no round_*/proposals.parquet (is this a results folder?)")
    rows, best, best_snap, notes = [], -np.inf, "", []
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
        fit = read_table(metrics).iloc[0] if metrics.exists() else None
        tau = np.nan if fit is None else fit["kendall_tau"]
        if fit is None:
            notes.append(NO_TAU["no_model"])
        elif pd.isna(tau) and fit.get("n_holdout", 0) == 0:
            notes.append(NO_TAU["no_holdout"])
        merged = props.merge(children[["slot", "value"]], on="slot", how="inner")
        proposed_tau = kendall(merged["predicted_value"], merged["value"])
        if pd.isna(proposed_tau):
            notes.append(NO_TAU["no_prediction"])
        rows.append({
            "round": r, "proposed": len(props), "done": len(children), "ok": len(ok),
            "failed": len(children) - len(ok), "waiting": len(props) - len(children),
            "best_value": best if np.isfinite(best) else np.nan, "best_snap": best_snap,
            "heldout_tau": float(tau),
            "tau_of_proposals": proposed_tau,
        })  # fmt: skip
    cache = results / "cache" / "children"
    training = len(list(cache.glob("*.started"))) if cache.exists() else 0
    notes = [n for n in NO_TAU.values() if n in notes]  # once each, in NO_TAU's order
    return pd.DataFrame(rows, columns=STATUS_COLUMNS), training, notes


def format_status(table: pd.DataFrame, training: int, notes: list[str] = ()) -> str:
    """Plain text of search_status (also what a job log or a pipe gets)."""
    shown = table.copy()
    for col in ("best_value", "heldout_tau", "tau_of_proposals"):
        shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"{v:.3f}")
    lines = [shown.to_string(index=False), f"children training now: {training}"]
    return "\n".join(lines + [f"  {n}" for n in notes])


def _thousands(n: float) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e3 else f"{n:.0f}"


def final_table(results: str | Path) -> str:
    """The final comparison as text ("" before it exists): every candidate's test
    landmark error (mean ± sd over its seeds), parameters and latency, then the best
    found block against the i3PosNet-like baseline."""
    path = Path(results) / "final" / "summary.parquet"
    if not path.exists():
        return ""
    df = read_table(path)
    seeds = int(df["seeds"].max())
    shown = pd.DataFrame({
        "candidate": df["candidate"],
        "block": df["snap"].where(df["candidate"] != "i3posnet", "(i3PosNet-like network)"),
        "landmark error": [f"{m:.3f} ± {s:.3f} mm" for m, s in
                           zip(df["landmark_err_mm_mean"], df["landmark_err_mm_std"].fillna(0),
                               strict=True)],
        "params": df["params"].map(_thousands),
        "latency": df["latency_ms"].map(lambda v: f"{v:.2f} ms"),
    })  # fmt: skip
    lines = [
        f"Final comparison on the test split ({seeds} training seeds each; lower is better):",
        shown.to_string(index=False),
    ]
    by = df.set_index("candidate")
    if {"best1", "i3posnet"} <= set(by.index):
        best, base = by.loc["best1"], by.loc["i3posnet"]
        change = 1 - best["landmark_err_mm_mean"] / base["landmark_err_mm_mean"]
        lines.append(
            f"best1 ({best['snap']}): {abs(change):.0%} {'lower' if change >= 0 else 'higher'} "
            f"landmark error than the i3PosNet-like network, with "
            f"{best['params'] / base['params']:.0%} of its parameters."
        )
    lines.append("(The search ranked blocks by validation value; these are test errors of "
                 "fresh trainings with the final budget.)")  # fmt: skip
    return "\n".join(lines)
