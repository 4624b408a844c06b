"""A child whose job dies twice (an out-of-memory killer, a node failure) becomes a row
with status `killed`, and its round goes on."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pandas as pd
import pytest
from helpers import BIN, HANG_S, SNAKEMAKE, workdir

pytestmark = pytest.mark.slow


def test_a_child_that_kills_its_job_twice_is_recorded_and_the_round_goes_on(tmp_path):
    """The job training a child is killed (SIGKILL, as by an out-of-memory killer or a
    node failure) on its first and its second attempt; with --retries 2 the third attempt
    records the child as `killed`, takes the chunk's finished children from the cache,
    and the round completes."""
    cwd = workdir(tmp_path)
    (cwd / "slow.yaml").write_text("train:\n  epochs: 12\n")  # children of a second or two
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    target = "results/round_0/history.parquet"
    proc = subprocess.Popen(
        [SNAKEMAKE, "--configfile", "config/smoke.yaml", "slow.yaml", "--cores", "2",
         "--retries", "2", target],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    cache = cwd / "results/cache/children"
    victim, kills = None, 0
    while kills < 2 and proc.poll() is None:  # waits on progress, not on a clock
        markers = sorted(cache.glob("*.started")) if cache.exists() else []
        for marker in markers:
            if victim not in (None, marker):
                continue
            fields = marker.read_text().split()
            if len(fields) == 3 and int(fields[0]) == kills + 1:  # started, not yet killed
                victim = marker
                os.kill(int(fields[1]), signal.SIGKILL)
                kills += 1
        time.sleep(0.05)
    out, _ = proc.communicate(timeout=HANG_S)
    assert kills == 2, out[-3000:]
    assert proc.returncode == 0, out[-3000:]
    history = pd.read_parquet(cwd / target)
    assert list(history["status"]).count("killed") == 1, history[["snap", "status"]]
    assert (history["status"] != "killed").sum() == len(history) - 1
    assert (history.loc[history["status"] != "killed", "status"] == "ok").all()
    killed = history[history["status"] == "killed"].iloc[0]
    assert "died 2 times" in killed["error"] and killed["params"] > 0
    assert victim.read_text().split()[0] == "2"  # kept, and recording it is not a start


def test_a_training_job_that_books_a_gpu_fails_without_one(tmp_path):
    """With resources.gpus_per_child a training job asks for a GPU, and on a machine
    without a working CUDA (this one) it fails in one line saying so, instead of
    training on the CPU for days; the data it did not need to redo stays."""
    cwd = workdir(tmp_path)
    (cwd / "gpu.yaml").write_text("resources: {gpus_per_child: 1}\n")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    r = subprocess.run(
        [SNAKEMAKE, "--configfile", "config/smoke.yaml", "gpu.yaml", "--cores", "2",
         "results/round_0/children/0.parquet"],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=HANG_S,
    )  # fmt: skip
    assert r.returncode != 0, r.stdout[-3000:]
    log = (cwd / "results/logs/round_0/train_child_0.log").read_text()
    assert "device 'cuda' asked for, but CUDA is not available" in log, log[-2000:]
    assert (cwd / "results/data/train.parquet").exists()
    assert not (cwd / "results/round_0/children/0.parquet").exists()
