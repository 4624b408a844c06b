"""How a search is doing, read from its results folder while it runs (`autosnap status`),
and what it found once the final comparison exists (also printed at the end of a run).

Only files the stages write atomically are read, so a half-written table is never seen:
proposals and child tables per round, the value models' metrics, the child cache's
start markers (a child being trained right now) and the final summary."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autosnap import __version__
from autosnap.errors import InputError
from autosnap.pipeline.recommend import from_summary
from autosnap.search.fidelity import top_rung
from autosnap.search.trace import proposal_tau
from autosnap.tables import atomic_write, read_table

STATUS_COLUMNS = [
    "round", "proposed", "done", "ok", "failed", "waiting", "best_value", "best_snap",
    "heldout_tau", "tau_of_proposals", "rungs",
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
        rungs = sorted(folder.glob("rung_*"), key=lambda p: int(p.name.split("_")[1]))
        children = _tables(folder / "rung_0" if rungs else folder)
        filled = " ".join(_rung_fill(folder, p) for p in rungs)
        ok = children[children["status"] == "ok"]
        top_ok = ok  # with rungs, the best is of the whole budget's children: the history's
        if rungs:
            history = folder / "history.parquet"
            top = top_rung(read_table(history)) if history.exists() else ok.iloc[:0]
            top_ok = top[(top["status"] == "ok") & (top["round"] == r)]
        if len(top_ok) and top_ok["value"].max() > best:
            best = float(top_ok["value"].max())
            best_snap = str(top_ok.loc[top_ok["value"].idxmax(), "snap"])
        metrics = folder / "value_model.parquet"
        fit = read_table(metrics).iloc[0] if metrics.exists() else None
        tau = np.nan if fit is None else fit["kendall_tau"]
        if fit is None:
            notes.append(NO_TAU["no_model"])
        elif pd.isna(tau) and fit.get("n_holdout", 0) == 0:
            notes.append(NO_TAU["no_holdout"])
        proposed_tau = proposal_tau(props, children)
        if pd.isna(proposed_tau):
            notes.append(NO_TAU["no_prediction"])
        rows.append({
            "round": r, "proposed": len(props), "done": len(children), "ok": len(ok),
            "failed": len(children) - len(ok), "waiting": len(props) - len(children),
            "best_value": best if np.isfinite(best) else np.nan, "best_snap": best_snap,
            "heldout_tau": float(tau),
            "tau_of_proposals": proposed_tau, "rungs": filled,
        })  # fmt: skip
    cache = results / "cache" / "children"
    training = len(list(cache.glob("*.started"))) if cache.exists() else 0
    notes = [n for n in NO_TAU.values() if n in notes]  # once each, in NO_TAU's order
    return pd.DataFrame(rows, columns=STATUS_COLUMNS), training, notes


def _tables(folder: Path) -> pd.DataFrame:
    """The child tables written so far in `folder`/children."""
    done = [read_table(p) for p in sorted((folder / "children").glob("*.parquet"))]
    if done:
        return pd.concat(done, ignore_index=True)
    return pd.DataFrame(columns=["snap", "status", "value", "slot"])


def _rung_fill(round_folder: Path, rung: Path) -> str:
    """`done/places` of one rung ("-" while its places are not chosen yet)."""
    props = (
        round_folder / "proposals.parquet" if rung.name == "rung_0" else rung / "proposals.parquet"
    )
    if not props.exists():
        return "-"
    return f"{len(list((rung / 'children').glob('*.parquet')))}/{len(read_table(props))}"


def format_status(table: pd.DataFrame, training: int, notes: list[str] = ()) -> str:
    """Plain text of search_status (also what a job log or a pipe gets)."""
    shown = table.copy()
    if not shown["rungs"].astype(bool).any():  # a search without rungs
        shown = shown.drop(columns="rungs")
    for col in ("best_value", "heldout_tau", "tau_of_proposals"):
        shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"{v:.3f}")
    lines = [shown.to_string(index=False), f"children training now: {training}"]
    return "\n".join(lines + [f"  {n}" for n in notes])


def thousands(n: float) -> str:
    """278k, 1.20M: a count as people quote it."""
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e3 else f"{n:.0f}"


def mean_sd(mean: float, sd: float, digits: int = 3, unit: str = " mm", missing: str = "-"
            ) -> str:  # fmt: skip
    """A mean ± sd cell of the final comparison (sd 0 with one seed; `missing` without
    a mean), for the terminal's table and the report's alike."""
    if pd.isna(mean):
        return missing
    return f"{mean:.{digits}f} ± {0 if pd.isna(sd) else sd:.{digits}f}{unit}"


def column(summary: pd.DataFrame, name: str, default: object = np.nan) -> pd.Series:
    """A summary column, or `default` throughout for a summary written before it existed."""
    return summary[name] if name in summary.columns else pd.Series(default, index=summary.index)


def marked_candidates(summary: pd.DataFrame) -> list[str]:
    """The candidates, the recommended one marked with *."""
    mark = column(summary, "recommended", False).fillna(False)
    return [f"{c} *" if m else c for c, m in zip(summary["candidate"], mark, strict=True)]


def final_table(results: str | Path) -> str:
    """The final comparison as text ("" before it exists): every candidate's validation
    error (what picks the model to export) and test landmark error (mean ± sd over its
    seeds), parameters and latency; then the recommendation and why, and the
    recommended model against the i3PosNet-like baseline."""
    path = Path(results) / "final" / "summary.parquet"
    if not path.exists():
        return ""
    df = read_table(path)
    seeds = int(df["seeds"].max())
    val, val_sd = column(df, "val_landmark_err_mm_mean"), column(df, "val_landmark_err_mm_std")
    shown = pd.DataFrame({
        "candidate": marked_candidates(df),
        "block": df["snap"].where(df["candidate"] != "i3posnet", "(i3PosNet-like network)"),
        "validation error": [mean_sd(m, s) for m, s in zip(val, val_sd, strict=True)],
        "test error": [mean_sd(m, s) for m, s in
                       zip(df["landmark_err_mm_mean"], df["landmark_err_mm_std"], strict=True)],
        "params": df["params"].map(thousands),
        "latency": df["latency_ms"].map(lambda v: f"{v:.2f} ms"),
    })  # fmt: skip
    lines = [
        f"Final comparison ({seeds} training seeds each; landmark error, lower is better; "
        "* recommended):",
        shown.to_string(index=False),
    ]
    try:
        pick = from_summary(df, str(path))
    except InputError as e:
        return "\n".join([*lines, f"No recommendation: {e}"])
    lines += pick.lines(results)
    by = df.set_index("candidate")
    if not pick.is_baseline and "i3posnet" in by.index:
        best, base = by.loc[pick.candidate], by.loc["i3posnet"]
        change = 1 - best["landmark_err_mm_mean"] / base["landmark_err_mm_mean"]
        lines.append(
            f"On the test split, {pick.candidate} has {abs(change):.0%} "
            f"{'lower' if change >= 0 else 'higher'} landmark error than the i3PosNet-like "
            f"network, with {best['params'] / base['params']:.0%} of its parameters."
        )
    lines.append("(The search ranked blocks on short trainings; the final stage retrains "
                 "them on the full budget, picks on validation, and reports test.)")  # fmt: skip
    return "\n".join(lines)


#: The record a run leaves of itself (written when its workflow starts executing).
RUN_RECORD = "run.json"


def write_run_record(results: str | Path, config_files: str, config: dict, trainings: int
                     ) -> Path:  # fmt: skip
    """`results/run.json`: when the run started, with which configs, data and version,
    and how many trainings it makes in all: what the report's facts and the status's
    time left read."""
    data = config.get("data", {})
    source = (f"imported: {data.get('images')} with {data.get('poses')}"
              if data.get("source") == "import" else
              f"simulated: {', '.join(data.get('instruments', []))}")  # fmt: skip
    here = Path.cwd()
    shown = " + ".join(str(Path(f).relative_to(here)) if Path(f).is_relative_to(here) else f
                       for f in config_files.split(" + "))  # fmt: skip
    record = {"started": time.time(), "config": shown, "data": source,
              "trainings": trainings, "version": __version__}  # fmt: skip
    path = Path(results) / RUN_RECORD
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(record, indent=1) + "\n"))
    return path


def read_run_record(results: str | Path) -> dict:
    path = Path(results) / RUN_RECORD
    return json.loads(path.read_text()) if path.exists() else {}


#: What each training (or look-up) leaves: one table.
TRAINING_TABLES = ("round_*/children/*.parquet", "round_*/rung_*/children/*.parquet",
                   "random/children/*.parquet", "final/*/seed_*.parquet")  # fmt: skip


def trainings_done(results: str | Path, since: float = 0.0) -> tuple[int, int]:
    """(tables written in all, of those written since `since`): the trainings done."""
    times = [p.stat().st_mtime for pattern in TRAINING_TABLES for p in Path(results).glob(pattern)]
    return len(times), sum(t >= since for t in times)


def _duration(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def timing(results: str | Path, now: float | None = None) -> str:
    """Elapsed time since the run (its last `snakemake` invocation) started and, while it
    runs, a rough time left at the pace of the trainings it finished so far ("" without
    a run record)."""
    record = read_run_record(results)
    if "started" not in record:
        return ""
    summary = Path(results) / "final" / "summary.parquet"
    (done, recent), total = trainings_done(results, record["started"]), record.get("trainings", 0)
    if summary.exists() and done >= total:
        took = summary.stat().st_mtime - record["started"]
        return f"elapsed {_duration(took)} (finished)" if took >= 0 else "finished"
    elapsed = max((time.time() if now is None else now) - record["started"], 0.0)
    line = f"elapsed {_duration(elapsed)}"
    if recent > 0 and done < total and elapsed > 0:
        left = (total - done) * elapsed / recent
        line += (f", {done}/{total} trainings done; roughly {_duration(left)} left at the "
                 "pace so far")  # fmt: skip
    return line


def run_facts(results: str | Path, history: str | Path | None = None) -> dict[str, str]:
    """The run's facts for the report: configs, data, children, time, version."""
    record = read_run_record(results)
    facts = {k: str(record[k]) for k in ("config", "data") if k in record}
    if history is not None and Path(history).exists():
        children = read_table(history)
        facts["children"] = (f"{len(children)} ({int((children['status'] == 'ok').sum())} "
                             "trained successfully)")  # fmt: skip
    if when := timing(results):
        facts["time"] = when
    facts["version"] = f"autosnap {record.get('version', __version__)}"
    return facts


def next_steps(results: str | Path = "results") -> str:
    """What a user does after a run: the report, the exported model, a first prediction."""
    results = Path(results)
    steps = [
        (f"open {results / 'report' / 'index.html'}", "the report, the answer first"),
        (f"cat {results / 'export' / 'MODEL_CARD.md'}", "the exported model's card"),
        (f"autosnap predict {results / 'export'} --images resources/example_data/images "
         "--guesses resources/example_data/poses.csv --out predictions.csv",
         "poses on the example radiographs"),
        ("autosnap status", "this table again, any time"),
    ]  # fmt: skip
    return "\n".join(["Next steps:", *(f"  {cmd}\n      ({why})" for cmd, why in steps)])
