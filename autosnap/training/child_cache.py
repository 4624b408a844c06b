"""The child cache: finished children by what determines their result, and markers that
count how often a child's training job died.

A chunk interrupted half-way keeps its finished children, an architecture proposed twice
(by the search and the random search, or in a retried job) trains once, and a child
whose job keeps dying (time limit, memory, a failing node) is eventually recorded as
`killed` instead of failing its round again and again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from autosnap.tables import read_table, write_table
from autosnap.training.config import TrainConfig

#: Statuses worth remembering: a retry would give the same result.
CACHED_STATUSES = ("ok", "diverged")
#: A child whose training job died this many times while training it is recorded as
#: `killed`, not tried again.
KILL_LIMIT = 2


def child_key(snap_id: str, cfg: TrainConfig, data_files: Sequence[Path]) -> str:
    """Everything that determines a child's result: the architecture, the training
    config (threads and device aside), its seed and the data files (size and mtime)."""
    train = {k: v for k, v in asdict(cfg).items() if k not in ("threads", "device", "seed")}
    data = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in data_files]
    payload = json.dumps({"snap_id": snap_id, "train": train, "seed": cfg.seed, "data": data},
                         sort_keys=True)  # fmt: skip
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CachedChild:
    """The cache files of one child: its result row, its weights, its start marker."""

    table: Path
    weights: Path
    marker: Path

    def get(self, weights_out: Path | None) -> dict | None:
        """The cached row (with its weights copied to `weights_out` when asked for), or
        None when the child has to be trained."""
        if not self.table.exists() or (weights_out is not None and not self.weights.exists()):
            return None
        if weights_out is not None:
            shutil.copyfile(self.weights, weights_out)
        return read_table(self.table).iloc[0].to_dict()

    def put(self, row: dict, weights: Path | None) -> None:
        """Remember a finished child (its weights too, when it has them)."""
        if weights is not None and weights.exists():
            shutil.copyfile(weights, self.weights)
        if row["status"] in CACHED_STATUSES:
            write_table(pd.DataFrame([row]), self.table)

    def start(self) -> int:
        """Count a start of this child's training and return how many starts there were
        before it. Once there were KILL_LIMIT, the child will not train: the count stays."""
        starts = int(self.marker.read_text().split()[0]) if self.marker.exists() else 0
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
    """A folder of CachedChild files named by child_key."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def child(self, snap_id: str, cfg: TrainConfig, data_files: Sequence[Path]) -> CachedChild:
        key = child_key(snap_id, cfg, data_files)
        return CachedChild(
            *(self.folder / f"{key}{ext}" for ext in (".parquet", ".pt", ".started"))
        )
