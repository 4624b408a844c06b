"""The child cache: first writer wins, one training per child at a time, and starts
that count against a child only on a retry of its job."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from autosnap.tables import atomic_write
from autosnap.training.child_cache import KILL_LIMIT, ChildCache, child_key
from autosnap.training.config import TrainConfig


def child(tmp_path, snap_id="abc"):
    data = tmp_path / "train.parquet"
    data.write_bytes(b"data")
    return ChildCache(tmp_path / "cache").child(snap_id, TrainConfig(), [data])


def row(value: float, status: str = "ok") -> dict:
    return {"snap": "c3", "snap_id": "abc", "status": status, "value": value, "round": 0}


def test_exclusive_write_keeps_the_first_file(tmp_path):
    target = tmp_path / "t.txt"
    assert atomic_write(target, lambda p: p.write_text("first"), exclusive=True) == target
    assert atomic_write(target, lambda p: p.write_text("second"), exclusive=True) is None
    assert target.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt"]  # no temporary left


def test_first_writer_wins_and_the_loser_gets_the_winners_row_and_weights(tmp_path):
    c = child(tmp_path)
    w1, w2 = tmp_path / "w1.pt", tmp_path / "w2.pt"
    w1.write_bytes(b"net one")
    w2.write_bytes(b"net two")
    assert c.put(row(0.5), w1)["value"] == 0.5
    held = c.put(row(0.7), w2)  # a second job trained the same child
    assert held["value"] == 0.5 and w2.read_bytes() == b"net one"
    out = tmp_path / "out.pt"
    assert c.get(out)["value"] == 0.5 and out.read_bytes() == b"net one"
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 1  # the loser's weights are gone


def test_failures_a_retry_may_cure_are_not_cached(tmp_path):
    c = child(tmp_path)
    assert c.put(row(np.nan, "timeout"), None)["status"] == "timeout"
    assert c.get(None) is None
    c.put(row(np.nan, "diverged"), None)
    assert c.get(None)["status"] == "diverged"


def test_a_child_without_cached_weights_is_trained_when_weights_are_needed(tmp_path):
    c = child(tmp_path)
    c.put(row(0.5), None)
    assert c.get(None)["value"] == 0.5
    assert c.get(tmp_path / "out.pt") is None


def test_starts_count_only_on_retries_of_the_job(tmp_path):
    c = child(tmp_path)
    assert c.start(attempt=1) == 0
    assert c.start(attempt=1) == 0  # the run died; a new run's first attempt: no fault
    assert c.start(attempt=2) == 1  # the job died while training it and was retried
    assert c.start(attempt=3) == KILL_LIMIT
    assert c.start(attempt=4) == KILL_LIMIT  # the count stays once the limit is reached
    c.end()
    assert not c.marker.exists()


def test_one_child_trains_in_one_process_at_a_time(tmp_path):
    """A second process that wants a child being trained waits for the lock, then
    finds the row the first one cached."""
    c = child(tmp_path)
    code = f"""
import sys, time
from pathlib import Path
from autosnap.training.child_cache import CachedChild
c = CachedChild(Path({str(c.table)!r}), Path({str(c.marker)!r}))
with c.exclusive():
    print("locked", flush=True)
    time.sleep(1.0)
    c.put({row(0.25)!r}, None)
"""
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        start = time.perf_counter()
        with c.exclusive():
            waited = time.perf_counter() - start
            assert c.get(None)["value"] == 0.25
        assert waited > 0.2
    finally:
        holder.wait()


def test_finished_trainings_are_recorded(tmp_path):
    c = child(tmp_path)
    c.record_training(row(0.5))
    c.record_training(row(0.6))
    ledger = pd.read_json(c.ledger, lines=True)
    assert list(ledger["child"]) == [c.table.stem] * 2 and list(ledger["snap"]) == ["c3"] * 2


def test_the_key_follows_the_data_contents_not_their_times(tmp_path):
    """Data made again identically (a new mtime) keeps the key; other bytes change it."""
    data = tmp_path / "train.parquet"
    data.write_bytes(b"the same bytes")
    key = child_key("abc", TrainConfig(), [data])
    data.write_bytes(b"the same bytes")
    os.utime(data, ns=(1, 1))
    assert child_key("abc", TrainConfig(), [data]) == key
    data.write_bytes(b"other bytes")
    assert child_key("abc", TrainConfig(), [data]) != key
    assert child_key("abd", TrainConfig(), [data]) != child_key("abc", TrainConfig(), [data])
