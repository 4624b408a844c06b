"""Progress for long work: plain log lines always (a job log reads the same whether or
not a terminal was attached), and a rich bar besides when stderr is a terminal."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("autosnap")


def setup_logging(level: int = logging.INFO) -> None:
    """Plain timestamped lines on stderr (what Snakemake and Slurm capture as job logs)."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
    log.setLevel(level)


def interactive() -> bool:
    return sys.stderr.isatty()


def track(items: Iterable[T], total: int, description: str, lines: int = 10) -> Iterator[T]:
    """Iterate logging about `lines` progress lines, with a rich bar on a terminal too."""
    if interactive():
        from rich.progress import track as rich_track

        items = rich_track(items, total=total, description=description, transient=True)
    every = max(1, total // lines)
    start = time.perf_counter()
    for i, item in enumerate(items, start=1):
        yield item
        if i % every == 0 or i == total:
            log.info("%s: %d/%d (%.1f s)", description, i, total, time.perf_counter() - start)


def log_to_file(path: str) -> None:
    """Send the log to a job's log file too (what a Snakemake rule's `log:` names)."""
    setup_logging()
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
