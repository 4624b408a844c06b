"""The child cache: finished children by what determines their result, and markers that
count how often a child's training job died.

A chunk interrupted half-way keeps its finished children, an architecture proposed twice
(in two rounds, by two final candidates, or in a retried job) trains once, and a child
whose job keeps dying (time limit, memory, a failing node) is eventually recorded as
`killed` instead of failing its round again and again.

One child trains in one job at a time: a job holds the child's lock while it trains it,
and a job that wanted the same child waits and then takes the cached row. The first
writer wins all the same (where locks do not reach across machines): an entry is
created once and never replaced, and a job that trained a child another job cached
first writes the cached row (and weights), so every table shows the same row. Each
finished training adds a line to `trainings.jsonl`, the record of what was trained,
once its result is in the cache: a job killed after training a child but before
caching it has nothing to reuse, and the child's next training is its only one.

A child trained only to a rung of successive halving (epoch `until` of its budget) is
an entry of its own, `{key}-e{until}`, with the state a continuation starts from
(`.state.pt`, trainer.Resume); a training to a later rung, or to the whole budget,
continues from the latest such state instead of starting again. The whole budget keeps
the plain key, so a search without rungs finds what it found before.

A start counts against a child only on a retry of its job in the same run (Snakemake's
`attempt` > 1): when a whole run dies (Ctrl-C, `kill -9`, a lost head node), that is not
the child's fault.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from autosnap.tables import atomic_write, exclusive, read_table
from autosnap.training.config import TrainConfig

#: Statuses worth remembering: a retry would give the same result.
CACHED_STATUSES = ("ok", "diverged")
#: A child whose training job died this many times while training it is recorded as
#: `killed`, not tried again.
KILL_LIMIT = 2


@functools.lru_cache(maxsize=64)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-1 of a file's bytes, computed once per version of the file (size and mtime
    are part of the cache key of this function, not of the child's)."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def child_key(snap_id: str, cfg: TrainConfig, data_files: Sequence[Path]) -> str:
    """Everything that determines a child's result: the architecture, the training
    config (threads and device aside), its seed and the data files' contents. Contents,
    not times: data made again identically (a rerun of prepare_data after a config
    change elsewhere in data:) keeps every finished child."""
    train = {k: v for k, v in asdict(cfg).items() if k not in ("threads", "device", "seed")}
    data = [(p.name, _digest(str(p), p.stat().st_size, p.stat().st_mtime_ns)) for p in data_files]
    payload = json.dumps({"snap_id": snap_id, "train": train, "seed": cfg.seed, "data": data},
                         sort_keys=True)  # fmt: skip
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CachedChild:
    """The cache files of one child: its result row, its start marker, and its weights
    (named in the row, written before it)."""

    table: Path
    marker: Path

    @property
    def state(self) -> Path:
        """Where a rung's training stands (trainer.Resume), for its continuation."""
        return self.table.with_suffix(".state.pt")

    @property
    def ledger(self) -> Path:
        return self.table.with_name("trainings.jsonl")

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold this child's lock while training it (tables.exclusive); without file
        locks, first-writer-wins still keeps the tables consistent."""
        return exclusive(self.table.with_suffix(".lock"))

    def record_training(self, row: dict) -> None:
        """Add a finished training to the ledger (one JSON line, appended atomically)."""
        line = json.dumps({"child": self.table.stem, "snap": row["snap"], "status": row["status"],
                           "host": socket.gethostname(), "pid": os.getpid(),
                           "time": time.time()})  # fmt: skip
        with open(self.ledger, "a") as f:
            f.write(line + "\n")

    def get(self, weights_out: Path | None) -> dict | None:
        """The cached row (with its weights copied to `weights_out` when asked for), or
        None when the child has to be trained."""
        if not self.table.exists():
            return None
        row = read_table(self.table).iloc[0].to_dict()
        if weights_out is not None:
            # entries of autosnap <= 0.1 kept their weights as {key}.pt
            weights = self.table.with_name(row.get("weights_file") or f"{self.table.stem}.pt")
            if not weights.exists():
                return None
            shutil.copyfile(weights, weights_out)
        return row

    def put(self, row: dict, weights: Path | None) -> dict:
        """Remember a finished child, with its weights when it has them, unless another
        job was first; returns the row the cache holds (and then `weights` holds that
        row's network). Failures that a retry may cure are not remembered."""
        if row["status"] not in CACHED_STATUSES:
            return row
        stored = None
        if weights is not None:
            stored = self.table.with_name(f"{self.table.stem}.{uuid.uuid4().hex[:12]}.pt")
            atomic_write(stored, lambda tmp: shutil.copyfile(weights, tmp))
        entry = pd.DataFrame([{**row, "weights_file": stored.name if stored else ""}])
        if atomic_write(self.table, lambda tmp: entry.to_parquet(tmp, index=False), True):
            return row
        if stored is not None:
            stored.unlink()
        held = self.get(weights)
        return row if held is None else held

    def start(self, attempt: int = 1) -> int:
        """Count a start of this child's training and return how many starts counted
        before it: those of earlier attempts of its job in this run (attempt > 1); a
        first attempt counts from zero. Once there were KILL_LIMIT, the child will not
        train: the count stays."""
        starts = 0
        if attempt > 1 and self.marker.exists():
            starts = int(self.marker.read_text().split()[0])
        if starts < KILL_LIMIT:
            self.marker.write_text(f"{starts + 1} {os.getpid()} {socket.gethostname()}\n")
        return starts

    def uncount(self, starts: int) -> None:
        """Take back a start that was not the child's fault (Ctrl-C)."""
        if starts:
            self.marker.write_text(f"{starts}\n")
        else:
            self.marker.unlink(missing_ok=True)

    def end(self) -> None:
        """The child's training ended (whatever its status): no job died on it."""
        self.marker.unlink(missing_ok=True)


class ChildCache:
    """A folder of CachedChild files named by child_key (and the epoch of a rung)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def child(self, snap_id: str, cfg: TrainConfig, data_files: Sequence[Path],
              until: int | None = None) -> CachedChild:  # fmt: skip
        """The entry of a child trained to epoch `until` (None: its whole budget)."""
        key = child_key(snap_id, cfg, data_files)
        if is_rung(cfg, until):
            key = f"{key}-e{until}"
        return CachedChild(self.folder / f"{key}.parquet", self.folder / f"{key}.started")

    def resume_from(self, snap_id: str, cfg: TrainConfig, data_files: Sequence[Path],
                    until: int | None = None) -> tuple[int, Path] | None:  # fmt: skip
        """The latest rung before `until` (None: the whole budget) this child was
        trained to, with its saved state: (epoch, state file); None to start afresh."""
        key = child_key(snap_id, cfg, data_files)
        target = cfg.epochs if until is None else until
        found = []
        for path in self.folder.glob(f"{key}-e*.state.pt"):
            epoch = path.name[len(key) + 2 : -len(".state.pt")]
            if epoch.isdigit() and int(epoch) < target:
                found.append((int(epoch), path))
        return max(found) if found else None


def is_rung(cfg: TrainConfig, until: int | None) -> bool:
    """Whether training to epoch `until` stops before the budget (a rung, not the end)."""
    return until is not None and cfg.steps == 0 and until < cfg.epochs
