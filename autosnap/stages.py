"""The stages of a search as functions of config sections and paths.

The `autosnap` CLI and the Snakemake scripts in workflow/scripts/ both call these, so a
stage does the same thing whichever way it is started. Config sections arrive as plain
dicts (from YAML or Snakemake's validated config) and are checked here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import socket
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from autosnap.baselines import HandDesigned
from autosnap.config import from_dict
from autosnap.errors import InputError
from autosnap.progress import log
from autosnap.snap import Snap
from autosnap.strategies import SearchConfig, evaluated, propose
from autosnap.tables import CHILD_COLUMNS, PROPOSAL_COLUMNS, read_table, write_table


def search_config(section: dict | None) -> SearchConfig:
    return from_dict(SearchConfig, section, "search")


def prepare_data(data: dict | None, out_dir: str | Path) -> dict[str, Path]:
    """Render the simulated data set of a `data:` section into `out_dir`."""
    from autosnap.data import DataConfig, make_dataset

    return make_dataset(from_dict(DataConfig, data, "data"), out_dir)


def propose_round(
    search: dict | None,
    round_: int,
    out: str | Path,
    history: str | Path | None = None,
    model: str | Path | None = None,
    strategy: str | None = None,
) -> pd.DataFrame:
    """Write the proposals of a round (round 0: random, whatever the strategy)."""
    cfg = search_config(search)
    hist = read_table(history, CHILD_COLUMNS) if history else None
    strategy = "random" if round_ == 0 else (strategy or cfg.strategy)
    value_model = None
    if strategy == "autosnap" and model:
        from autosnap.value_model import ValueModel

        value_model = ValueModel.load(model, cfg.grammar)
    df = propose(hist, cfg, round_, value_model, strategy=strategy)
    write_table(df, out)
    log.info("%s: %d proposals %s", out, len(df), df["origin"].value_counts().to_dict())
    return df


def random_search_proposals(search: dict | None, out: str | Path) -> pd.DataFrame:
    """All proposals of a random search with the search's budget (rounds x children),
    round by round as the search would draw them, slots numbered through. Round 0 is the
    search's own round 0 (same seed), so the child cache trains it once for both."""
    cfg = search_config(search)
    frames: list[pd.DataFrame] = []
    for r in range(cfg.rounds):
        history = pd.concat(frames, ignore_index=True) if frames else None
        frames.append(propose(history, cfg, r, strategy="random"))
    df = pd.concat(frames, ignore_index=True)
    df["slot"] = range(len(df))
    write_table(df, out)
    log.info("%s: %d random proposals for the random-search baseline", out, len(df))
    return df


def train_slots(
    proposals: str | Path,
    slots: Sequence[int],
    outputs: Sequence[str | Path],
    data_dir: str | Path,
    train: dict | None,
    max_len: int,
    evaluate: str = "val",
    cache_dir: str | Path | None = None,
) -> list[dict]:
    """Train the given slots of a proposals table in this process (torch's start-up is
    paid once per chunk) and write one child table per slot as soon as it is done."""
    rows_in = read_table(proposals, PROPOSAL_COLUMNS).set_index("slot", drop=False)
    missing = [s for s in slots if s not in rows_in.index]
    if missing:
        raise InputError(f"{proposals}: no slot(s) {missing}")
    snaps = [Snap.parse(rows_in.at[s, "snap"], max_len) for s in slots]
    metas = [
        {"round": int(rows_in.at[s, "round"]), "slot": int(s), "origin": rows_in.at[s, "origin"]}
        for s in slots
    ]
    return train_snaps(snaps, metas, outputs, data_dir, train, evaluate, cache_dir=cache_dir)


#: Statuses worth remembering: a retry would give the same result.
CACHED_STATUSES = ("ok", "diverged")


def child_key(snap_id: str, cfg, seed: int, data_files: Sequence[Path]) -> str:
    """Everything that determines a child's result: the architecture, the training
    config (threads and device aside), the seed and the data files (size and mtime)."""
    train = {k: v for k, v in asdict(cfg).items() if k not in ("threads", "device", "seed")}
    data = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in data_files]
    payload = json.dumps({"snap_id": snap_id, "train": train, "seed": seed, "data": data},
                         sort_keys=True)  # fmt: skip
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


#: A child whose training job died this many times while training it (time limit,
#: memory, node failure: see `child_started`) is recorded as `killed`, not tried again.
KILL_LIMIT = 2


def child_started(marker: Path) -> int:
    """Count a start of a child's training in its marker file (removed when the child
    ends) and return how many starts there were before this one. Once there were
    KILL_LIMIT, the child will not train, so the count stays."""
    starts = int(marker.read_text().split()[0]) if marker.exists() else 0
    if starts < KILL_LIMIT:
        marker.write_text(f"{starts + 1} {os.getpid()} {socket.gethostname()}\n")
    return starts


def train_snaps(
    snaps: Sequence[Snap | HandDesigned],
    metas: Sequence[dict],
    outputs: Sequence[str | Path],
    data_dir: str | Path,
    train: dict | None,
    evaluate: str = "val",
    seed: int | None = None,
    columns: Sequence[str] = CHILD_COLUMNS,
    cache_dir: str | Path | None = None,
    weights: Sequence[str | Path] | None = None,
) -> list[dict]:
    """Train architectures one after another on data loaded once; one table (`columns`)
    each, and with `weights` one checkpoint each (autosnap.checkpoint).

    With `cache_dir`, a child trained before with the same key (see child_key) is taken
    from there instead of being trained again: an interrupted chunk resumes where it
    stopped, and an architecture seen twice is trained once. The cache keeps weights
    only for the children that were asked for them. A `{key}.started` marker counts the
    starts of a child whose training has not ended; once its job has died KILL_LIMIT
    times while training it, the child becomes a `killed` row and the job goes on with
    the others (so with the profile's retries, one bad child does not fail its round)."""
    import torch

    from autosnap.checkpoint import save_checkpoint
    from autosnap.device import select_device
    from autosnap.train import TrainConfig, build_model, child_row, load_splits, train_child

    cfg = from_dict(TrainConfig, train, "train")
    seed = cfg.seed if seed is None else seed
    data_files = [Path(data_dir) / "train.parquet", Path(data_dir) / f"{evaluate}.parquet"]
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    weights = list(weights) if weights is not None else [None] * len(snaps)
    splits = None
    rows = []
    for snap, meta, out, wout in zip(snaps, metas, outputs, weights, strict=True):
        cached = cached_pt = marker = None
        if cache_dir is not None:
            key = child_key(snap.snap_id, cfg, seed, data_files)
            cache = Path(cache_dir)
            cache.mkdir(parents=True, exist_ok=True)
            cached, cached_pt = cache / f"{key}.parquet", cache / f"{key}.pt"
            marker = cache / f"{key}.started"
        if cached is not None and cached.exists() and (wout is None or cached_pt.exists()):
            row = {**read_table(cached).iloc[0].to_dict(), **meta, "snap": snap.text}
            if wout is not None:
                shutil.copyfile(cached_pt, wout)
            log.info("%s: taken from %s (trained before)", snap.text, cached)
        else:
            if splits is None:  # data and device only when something is trained
                device = select_device(cfg.device)
                splits = (device, *load_splits(data_dir, device, evaluate))
            device, train_split, eval_split = splits
            starts = child_started(marker) if marker is not None else 0
            if starts >= KILL_LIMIT:
                error = (f"its training job died {starts} times while training it (time "
                         f"limit, memory or node failure); delete {marker} to retry")  # fmt: skip
                model = build_model(snap, cfg, train_split.shape[1:])
                row = child_row(snap, model, train_split.shape, meta, seed, str(device),
                                "killed", error)  # fmt: skip
                log.warning("%s: killed (%s)", snap.text, error)
            else:
                try:
                    row, model = train_child(snap, train_split, eval_split, cfg, device, meta,
                                             seed=seed)  # fmt: skip
                except KeyboardInterrupt:  # Ctrl-C is not the child's fault: uncount it
                    if marker is not None and starts:
                        marker.write_text(f"{starts}\n")
                    elif marker is not None:
                        marker.unlink(missing_ok=True)
                    raise
                if wout is not None and model is not None:
                    run_cfg = dataclasses.replace(cfg, seed=seed)
                    save_checkpoint(wout, model, snap, run_cfg, train_split.shape[1:], row)
                    if cached_pt is not None:
                        shutil.copyfile(wout, cached_pt)
                if cached is not None and row["status"] in CACHED_STATUSES:
                    write_table(pd.DataFrame([row]), cached)
            if marker is not None and row["status"] != "killed":
                marker.unlink(missing_ok=True)
        write_table(pd.DataFrame([row])[list(columns)], out)
        rows.append(row)
    return rows


def collect(tables: Sequence[str | Path], out: str | Path) -> pd.DataFrame:
    """Concatenate child (and earlier history) tables into a history table."""
    frames = [read_table(p, CHILD_COLUMNS)[CHILD_COLUMNS] for p in tables]
    df = pd.concat(frames, ignore_index=True).sort_values(["round", "slot"], kind="stable")
    df = df.reset_index(drop=True)
    write_table(df, out)
    ok = int((df["status"] == "ok").sum())
    log.info("%s: %d children (%d ok), best value %.4f", out, len(df), ok, df["value"].max())
    return df


def fit(
    history: str | Path,
    search: dict | None,
    value_model: dict | None,
    out_model: str | Path,
    out_metrics: str | Path,
    round_: int,
) -> dict:
    """Fit the value model on the successful children of a history; write the model and
    one metrics row. Without successful children it learns reconstruction only."""
    from autosnap.value_model import ValueModelConfig, fit_with_metrics

    cfg = search_config(search)
    vm_cfg = from_dict(ValueModelConfig, value_model, "value_model")
    ok = evaluated(read_table(history, CHILD_COLUMNS))
    if ok.empty:
        log.warning("%s: no successful child; fitting reconstruction only", history)
    start = time.perf_counter()
    model, metrics = fit_with_metrics(
        cfg.grammar, [s.split() for s in ok["snap"]], ok["value"].tolist(), vm_cfg
    )
    model.save(out_model)
    row = {"round": round_, **metrics, "fit_seconds": time.perf_counter() - start,
           "seed": vm_cfg.seed}  # fmt: skip
    write_table(pd.DataFrame([row]), out_metrics)
    return row


def final_run(
    candidate: str,
    seed: int,
    history: str | Path,
    data_dir: str | Path,
    train: dict | None,
    final: dict | None,
    search: dict | None,
    out: str | Path,
    cache_dir: str | Path | None = None,
    weights: str | Path | None = None,
    random_history: str | Path | None = None,
) -> dict:
    """Retrain one final candidate with one seed on the full budget, scored on test; with
    `weights`, keep the trained network there (autosnap.checkpoint)."""
    import numpy as np

    from autosnap.final import FINAL_COLUMNS, FinalConfig, candidate_arch

    fcfg = from_dict(FinalConfig, final, "final")
    source = random_history if candidate == "random" else history
    arch = candidate_arch(candidate, source, search_config(search).max_len)
    meta = {"candidate": candidate, "round": -1, "slot": -1, "origin": "final"}
    if arch is None:
        row = {c: np.nan for c in FINAL_COLUMNS} | meta | {
            "snap": "", "snap_id": "", "status": "no_candidate", "seed": seed, "device": "",
            "error": f"{source} has fewer successful children than {candidate} needs"}  # fmt: skip
        write_table(pd.DataFrame([row])[FINAL_COLUMNS], out)
        return row
    budget = {**(train or {}), **fcfg.train}
    (row,) = train_snaps([arch], [meta], [out], data_dir, budget, "test", seed, FINAL_COLUMNS,
                         cache_dir, weights=None if weights is None else [weights])  # fmt: skip
    return row
