"""The runner: trains a chunk of architectures in one process and writes one table each.

torch's start-up, the data and the device are paid once per chunk. Each child's row is
written as soon as it is done; with a cache folder, finished children are taken from
there instead of being trained again (autosnap.training.child_cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from autosnap.errors import InputError
from autosnap.models.factory import Architecture, build_model
from autosnap.progress import log
from autosnap.space.snap import Snap
from autosnap.tables import CHILD_COLUMNS, PROPOSAL_COLUMNS, also_columns, read_table, write_table
from autosnap.training.checkpoint import save_checkpoint
from autosnap.training.child_cache import KILL_LIMIT, CachedChild, ChildCache, is_rung
from autosnap.training.config import TrainConfig
from autosnap.training.device import describe_device, select_device
from autosnap.training.trainer import Split, load_splits, result_row, train_child


@dataclass
class _Session:
    """What the chunk's trainings share, loaded when the first child has to train."""

    device: torch.device
    train_split: Split
    eval_split: Split
    also: tuple[str, Split] | None

    @classmethod
    def open(cls, cfg: TrainConfig, data_dir: str | Path, evaluate: str, also: str | None
             ) -> _Session:  # fmt: skip
        try:
            device = select_device(cfg.device)
        except InputError as e:  # the job fails; its log says why in one line
            log.error("%s", e)
            raise
        log.info("training on %s", describe_device(device))
        second = None if also is None else (also, Split.load(Path(data_dir) / f"{also}.parquet",
                                                             device))  # fmt: skip
        return cls(device, *load_splits(data_dir, device, evaluate), second)


def train_snaps(
    archs: Sequence[Architecture],
    metas: Sequence[dict],
    outputs: Sequence[str | Path],
    data_dir: str | Path,
    cfg: TrainConfig,
    evaluate: str = "val",
    columns: Sequence[str] = CHILD_COLUMNS,
    cache_dir: str | Path | None = None,
    weights: Sequence[str | Path] | None = None,
    attempt: int = 1,
    also: str | None = None,
    until: int | None = None,
) -> list[dict]:
    """Train architectures one after another with `cfg` (its seed included), scored on
    `evaluate`, and with `also` on that split too (columns + also_columns(also)); one
    table each, and with `weights` one checkpoint each. `attempt` is the job's attempt
    in this run (Snakemake's; 1 unless it is a retry). `until`: train to that epoch of
    the budget only (a rung), continuing a cached earlier rung where there is one."""
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    data_files = [Path(data_dir) / "train.parquet", Path(data_dir) / f"{evaluate}.parquet"]
    extra = [] if also is None else also_columns(also)
    if also is not None:
        data_files.append(Path(data_dir) / f"{also}.parquet")
        columns = [*columns, *(c for c in extra if c not in columns)]
    cache = ChildCache(cache_dir) if cache_dir is not None else None
    weights = [None if w is None else Path(w) for w in weights or [None] * len(archs)]
    session: _Session | None = None
    rows = []
    for arch, meta, out, wout in zip(archs, metas, outputs, weights, strict=True):
        cached = cache.child(arch.snap_id, cfg, data_files, until) if cache else None
        with cached.exclusive() if cached else nullcontext():
            row = cached.get(wout) if cached else None
            if row is not None:
                log.info("%s: taken from %s (trained before)", arch.text, cached.table)
            else:
                session = session or _Session.open(cfg, data_dir, evaluate, also)
                start = cache.resume_from(arch.snap_id, cfg, data_files, until) if cache else None
                row = _train_one(arch, meta, cfg, session, cached, wout, attempt,
                                 _Stop(until, start))  # fmt: skip
        # a cached row may come from another job; a child that did not train has no scores
        row = {**dict.fromkeys(extra, np.nan), **row, **meta, "snap": arch.text}
        write_table(pd.DataFrame([row])[list(columns)], out)
        rows.append(row)
    return rows


@dataclass
class _Stop:
    """Where a training stops (`until`, None: the budget) and the cached rung it
    continues from ((epoch, state file), None: from scratch)."""

    until: int | None = None
    start: tuple[int, Path] | None = None


def _train_one(
    arch: Architecture,
    meta: dict,
    cfg: TrainConfig,
    session: _Session,
    cached: CachedChild | None,
    weights: Path | None,
    attempt: int,
    stop: _Stop | None = None,
) -> dict:
    """Train one child (or record it as killed), save its weights, fill the cache; the
    row returned is the cache's when another job cached the child first."""
    starts = cached.start(attempt) if cached else 0
    shape = session.train_split.shape
    if starts >= KILL_LIMIT:
        error = (f"its training job died {starts} times while training it (time limit, "
                 f"memory or node failure); delete {cached.marker} to retry")  # fmt: skip
        model = build_model(arch, shape[1:], **cfg.net_size)
        log.warning("%s: killed (%s)", arch.text, error)
        return result_row(arch, meta, cfg.seed, str(session.device), "killed", error, model, shape)
    stop = stop or _Stop()
    if stop.start is not None:
        log.info("%s: continuing from epoch %d (%s)", arch.text, *stop.start)
    keep = cached.state if cached and is_rung(cfg, stop.until) else None
    try:
        row, model = train_child(arch, session.train_split, session.eval_split, cfg,
                                 session.device, meta, session.also, stop.until,
                                 stop.start[1] if stop.start else None, keep)  # fmt: skip
    except KeyboardInterrupt:  # Ctrl-C is not the child's fault: uncount it
        if cached:
            cached.uncount(starts)
        raise
    saved = weights is not None and model is not None
    if saved:
        spacing = float(np.median(session.train_split.mm_per_px))
        save_checkpoint(weights, model, arch, cfg, shape[1:], row, spacing)
    if cached:
        # the ledger line comes after the cache entry: a run killed between the two
        # trains the child again, and only the training whose result was kept counts
        row = cached.put(row, weights if saved else None)
        cached.record_training(row)
        cached.end()
    return row


def train_slots(
    proposals: str | Path,
    slots: Sequence[int],
    outputs: Sequence[str | Path],
    data_dir: str | Path,
    cfg: TrainConfig,
    max_len: int,
    evaluate: str = "val",
    cache_dir: str | Path | None = None,
    attempt: int = 1,
    also: str | None = None,
    until: int | None = None,
) -> list[dict]:
    """Train the given slots of a proposals table (one chunk of a round, or of a rung)."""
    rows_in = read_table(proposals, PROPOSAL_COLUMNS).set_index("slot", drop=False)
    missing = [s for s in slots if s not in rows_in.index]
    if missing:
        raise InputError(f"{proposals}: no slot(s) {missing}")
    snaps = [Snap.parse(rows_in.at[s, "snap"], max_len) for s in slots]
    metas = [
        {"round": int(rows_in.at[s, "round"]), "slot": int(s), "origin": rows_in.at[s, "origin"]}
        for s in slots
    ]
    return train_snaps(snaps, metas, outputs, data_dir, cfg, evaluate, cache_dir=cache_dir,
                       attempt=attempt, also=also, until=until)  # fmt: skip
