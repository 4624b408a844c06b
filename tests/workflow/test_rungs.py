"""Successive halving inside a round, through the real workflow: config/smoke.yaml with
config/smoke_fidelity.yaml (4 children a round train 1 epoch, the best 2 continue to the
budget's 2). The rungs are jobs of the static DAG, a continuation trains only the epochs
after its rung, and a run killed in the middle of a rung ends with the same tables."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pandas as pd
import pytest
from helpers import AUTOSNAP, BIN, HANG_S, SNAKEMAKE, planned, snakemake, workdir

from autosnap.search.fidelity import curve_of

pytestmark = pytest.mark.slow

CONFIGS = ("--configfile", "config/smoke.yaml", "config/smoke_fidelity.yaml")
#: Two rounds of the search, not the final stage: what the rungs change.
TARGET = "results/round_1/history.parquet"
#: Columns that measure time, which differ between two runs of one config.
TIMED = ["train_seconds", "latency_ms"]


@pytest.fixture(scope="module")
def halving_run(tmp_path_factory):
    cwd = workdir(tmp_path_factory.mktemp("halving"))
    r = snakemake(cwd, TARGET, *CONFIGS, "--cores", "2")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return cwd


def test_the_dry_run_shows_each_rounds_rungs(tmp_path):
    jobs = planned(workdir(tmp_path), "--cores", "2", TARGET, *CONFIGS)
    # rung 0: 4 children in 2 jobs of 2 (resources.chunk), rung 1: the best 2 in 1 job
    assert jobs["train_rung0_0"] == 2 and jobs["train_rung0_1"] == 2, jobs
    assert jobs["promote"] == 2 and jobs["train_rung1_0"] == 2, jobs
    assert not any(j.startswith("train_child") for j in jobs), jobs


def test_the_best_half_of_a_rung_continues_and_the_history_keeps_the_curves(halving_run):
    cwd = halving_run
    history = pd.read_parquet(cwd / TARGET)
    assert len(history) == 8 and history["snap_id"].is_unique
    for r in (0, 1):
        rnd = history[history["round"] == r]
        folder = cwd / f"results/round_{r}/rung_0/children"
        rung0 = pd.concat(pd.read_parquet(p) for p in sorted(folder.glob("*.parquet")))
        best2 = set(rung0.sort_values("value", ascending=False)["snap_id"].head(2))
        top = rnd[rnd["rung"] == 1]
        assert set(top["snap_id"]) == best2  # the best half by validation value
        assert (top["epochs"] == 2).all() and (rnd.loc[rnd["rung"] == 0, "epochs"] == 1).all()
        for row in rnd.itertuples():
            curve = curve_of(row.curve)
            assert list(curve) == ([1, 2] if row.rung == 1 else [1])
            assert curve[list(curve)[-1]] == pytest.approx(row.value, rel=1e-5)
            first = rung0.loc[rung0["snap_id"] == row.snap_id, "value"].iloc[0]
            assert curve[1] == pytest.approx(first, rel=1e-5)


def test_a_continuation_trains_only_the_epochs_after_its_rung(halving_run):
    logs = sorted((halving_run / "results/logs/round_0/rung_1").glob("*.log"))
    text = "\n".join(p.read_text() for p in logs)
    assert text.count("continuing from epoch 1") == 2, text[-2000:]
    assert "epoch 2/2" in text and "epoch 1/2" not in text, text[-2000:]


def test_status_shows_the_rungs_as_they_fill(halving_run):
    r = subprocess.run([AUTOSNAP, "status", str(halving_run / "results")], capture_output=True,
                       text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "rungs" in r.stdout and r.stdout.count("4/4 2/2") == 2, r.stdout


def test_a_run_killed_in_the_middle_of_a_rung_ends_with_the_same_tables(halving_run, tmp_path):
    """kill -9 of the whole run while rung 1 of round 0 trains, then a rerun: the
    histories equal an uninterrupted run's (time columns aside)."""
    cwd = workdir(tmp_path)
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    proc = subprocess.Popen([SNAKEMAKE, TARGET, *CONFIGS, "--cores", "2"], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)  # fmt: skip
    cache = cwd / "results/cache/children"
    started = cwd / "results/round_0/rung_1/proposals.parquet"
    while proc.poll() is None:  # waits on progress: a rung-1 training has started
        if started.exists() and cache.exists() and any(cache.glob("*.started")):
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=HANG_S)
    assert not (cwd / TARGET).exists(), "the run ended before the kill"
    assert snakemake(cwd, "--unlock", *CONFIGS).returncode == 0  # what a user does after kill -9
    r = snakemake(cwd, TARGET, "--rerun-incomplete", *CONFIGS, "--cores", "2")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for r_ in (0, 1):
        path = f"results/round_{r_}/history.parquet"
        got = pd.read_parquet(cwd / path).drop(columns=TIMED)
        want = pd.read_parquet(halving_run / path).drop(columns=TIMED)
        pd.testing.assert_frame_equal(got, want)
