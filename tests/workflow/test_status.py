"""How long a run has taken and, while it runs, roughly how long it has left
(`autosnap status`), read from results/run.json and the tables written so far."""

from __future__ import annotations

import json
import os

import pandas as pd

from autosnap.pipeline.status import timing, write_run_record


def touch(path, when: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"x": [1]}).to_parquet(path)
    os.utime(path, (when, when))


def test_time_left_follows_the_pace_of_this_invocation(tmp_path, monkeypatch):
    """A resumed run: 4 tables from an earlier invocation, 2 written in the 10 minutes
    since this one started, 10 trainings in all: 4 left at 5 min each, 20 min."""
    monkeypatch.chdir(tmp_path)
    write_run_record(tmp_path, f"config/config.yaml + {tmp_path / 'my.yaml'}",
                     {"data": {"source": "simulate", "instruments": ["screw"]}}, 10)  # fmt: skip
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["config"] == "config/config.yaml + my.yaml" and record["trainings"] == 10
    start = record["started"]
    for slot in range(4):
        touch(tmp_path / f"round_0/children/{slot}.parquet", start - 3600)
    touch(tmp_path / "round_1/children/0.parquet", start + 60)
    touch(tmp_path / "final/best1/seed_0.parquet", start + 300)
    line = timing(tmp_path, now=start + 600)
    assert line == "elapsed 10 min, 6/10 trainings done; roughly 20 min left at the pace so far"
    for slot in range(4):  # every training done and the summary written: finished
        touch(tmp_path / f"final/resnet/seed_{slot}.parquet", start + 900)
    touch(tmp_path / "final/summary.parquet", start + 4000)
    assert timing(tmp_path) == "elapsed 1 h 07 min (finished)"
    assert timing(tmp_path / "elsewhere") == ""
