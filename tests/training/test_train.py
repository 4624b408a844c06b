"""Child training: it learns, it is reproducible, and failure is a row, not a crash."""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import AUTOSNAP, THREADS

from autosnap.config import from_dict
from autosnap.data.config import DataConfig
from autosnap.data.dataset import make_dataset
from autosnap.data.pose import pose_metrics, recover_pose
from autosnap.sim.fluoro import LANDMARKS_MM
from autosnap.space.snap import Snap
from autosnap.tables import CHILD_COLUMNS, read_table, write_table
from autosnap.training.config import TrainConfig
from autosnap.training.device import lease_gpu
from autosnap.training.trainer import load_splits, train_child

DEVICE = torch.device("cpu")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    cfg = from_dict(
        DataConfig,
        {"n_train": 640, "n_val": 128, "n_test": 64, "background_bank": 4, "patch": [24, 46],
         "geometry": {"detector_pixel_mm": 0.428, "height": 96, "width": 96}},
        "data",
    )  # fmt: skip
    make_dataset(cfg, out)
    return out


@pytest.fixture(scope="module")
def splits(data_dir):
    torch.set_num_threads(THREADS)
    return load_splits(data_dir, DEVICE)


def test_pose_recovery_is_exact_on_true_landmarks():
    rng = np.random.default_rng(0)
    angles = rng.uniform(-180, 180, 20)
    ref = rng.uniform(0, 50, (20, 2))
    a = np.radians(angles)[:, None]
    axis = np.concatenate([np.cos(a), np.sin(a)], axis=1)
    across = np.concatenate([-np.sin(a), np.cos(a)], axis=1)
    lm = ref[:, None] + 6.0 * (LANDMARKS_MM[None, :, :1] * axis[:, None]
                               + LANDMARKS_MM[None, :, 1:] * across[:, None])  # fmt: skip
    pos, ang = recover_pose(lm)
    np.testing.assert_allclose(pos, ref, atol=1e-9)
    np.testing.assert_allclose(ang, angles, atol=1e-9)
    m = pose_metrics(lm, lm, np.ones(20))
    assert m == {"landmark_err_mm": 0.0, "position_err_mm": 0.0, "angle_err_deg": 0.0}
    # a pure shift of every landmark by 2 px at 0.5 mm/px is a 1 mm error and no angle
    m = pose_metrics(lm + [2.0, 0.0], lm, np.full(20, 0.5))
    assert m["landmark_err_mm"] == pytest.approx(1.0)
    assert m["position_err_mm"] == pytest.approx(1.0)
    assert m["angle_err_deg"] == pytest.approx(0.0, abs=1e-9)


def test_resnet_block_learns_far_better_than_the_mean(splits):
    train, val = splits
    cfg = TrainConfig(epochs=12, width=8, seed=0)
    row, model = train_child(Snap.parse("dup c3 c3 add"), train, val, cfg, DEVICE)
    assert row["status"] == "ok" and model is not None
    mean = np.broadcast_to(train.landmarks.mean(axis=0), val.landmarks.shape)
    baseline = pose_metrics(mean, val.landmarks, val.mm_per_px)["landmark_err_mm"]
    assert row["landmark_err_mm"] < 0.5 * baseline
    assert row["value"] == pytest.approx(-np.log10(row["landmark_err_mm"]))
    assert row["angle_err_deg"] < 10
    assert row["params"] > 0 and row["macs"] > 0 and row["latency_ms"] > 0
    assert set(CHILD_COLUMNS) - {"round", "slot", "origin"} <= set(row)


def test_same_seed_gives_the_same_value_bitwise(splits):
    train, val = splits
    cfg = TrainConfig(epochs=1, width=4, seed=3)
    snap = Snap.parse("dup s3 swap c1 cat")
    a, _ = train_child(snap, train, val, cfg, DEVICE)
    b, _ = train_child(snap, train, val, cfg, DEVICE)
    c, _ = train_child(snap, train, val, dataclasses.replace(cfg, seed=4), DEVICE)
    assert a["value"] == b["value"]
    assert c["value"] != a["value"] and c["seed"] == 4


def test_divergence_is_a_row_with_status(splits):
    train, val = splits
    cfg = TrainConfig(epochs=2, lr=1e8, schedule="constant", width=4)
    row, model = train_child(Snap.parse("dup c3 c3 add"), train, val, cfg, DEVICE)
    assert row["status"] == "diverged" and model is None
    assert np.isnan(row["value"]) and "loss is nan" in row["error"]


def test_time_limit_is_a_row_with_status(splits):
    train, val = splits
    cfg = TrainConfig(epochs=100, width=4, time_limit_s=0.2)
    row, _ = train_child(Snap.parse("c3"), train, val, cfg, DEVICE)
    assert row["status"] == "timeout" and np.isnan(row["value"])


def test_cli_trains_slots_of_a_proposals_table(data_dir, tmp_path):
    props = pd.DataFrame(
        {"round": 1, "slot": [0, 1, 2], "snap": ["c3", "dup c1 add", "dup s5 swap mp cat"],
         "snap_id": "", "origin": "random", "predicted_value": np.nan}
    )  # fmt: skip
    write_table(props, tmp_path / "proposals.parquet")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("train:\n  epochs: 1\n  width: 4\n  threads: 1\n")
    out = str(tmp_path / "children" / "{slot}.parquet")
    r = subprocess.run(
        [AUTOSNAP, "train", "--proposals", str(tmp_path / "proposals.parquet"), "--slots", "0",
         "2", "--data", str(data_dir), "--config", str(cfg), "--out", out],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = pd.concat([read_table(out.format(slot=s), CHILD_COLUMNS) for s in (0, 2)])
    assert list(rows["slot"]) == [0, 2] and list(rows["round"]) == [1, 1]
    assert (rows["status"] == "ok").all()
    assert not (tmp_path / "children" / "1.parquet").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--snap", "dup c3 foo"], "position 3 'foo'"),
        (["--snap", "c3", "--data", "/nonexistent"], "/nonexistent/train.parquet: file not found"),
    ],
)
def test_cli_bad_arguments_are_usage_errors(args, message, data_dir, tmp_path):
    full = ["--data", str(data_dir), *args] if "--data" not in args else args
    r = subprocess.run([AUTOSNAP, "train", *full, "--out", str(tmp_path / "c.parquet")],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and message in r.stderr
    assert not (tmp_path / "c.parquet").exists()


def test_concurrent_processes_lease_different_gpus(tmp_path):
    """Lock files hand out device indices; a lease ends with its process."""
    code = (
        "import sys, time; from pathlib import Path; "
        "from autosnap.training.device import lease_gpu; "
        "print(lease_gpu(2, Path(sys.argv[1])), flush=True); time.sleep(30)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "0"
        assert lease_gpu(2, tmp_path) == 1
    finally:
        holder.kill()
        holder.wait()


def test_children_in_one_slurm_job_get_a_gpu_each(tmp_path):
    """A grouped Slurm job of four training processes sees all four of its GPUs in each
    (Slurm sets CUDA_VISIBLE_DEVICES per job): each process leases a different one, and
    another job on the node (its own GPUs, numbered from 0 again) leases independently."""
    code = (
        "import sys; from autosnap.training.device import gpu_of_this_process; "
        "print(gpu_of_this_process(), flush=True); sys.stdin.read()"
    )

    def start(job: str, visible: str) -> subprocess.Popen:
        env = {**os.environ, "SLURM_JOB_ID": job, "CUDA_VISIBLE_DEVICES": visible,
               "AUTOSNAP_LOCK_DIR": str(tmp_path)}  # fmt: skip
        return subprocess.Popen([sys.executable, "-c", code], env=env, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip

    procs = [start("41", "0,1,2,3") for _ in range(4)] + [start("42", "0,1")]
    try:
        indices = [int(p.stdout.readline()) for p in procs]
        assert sorted(indices[:4]) == [0, 1, 2, 3]
        assert indices[4] == 0
    finally:
        for p in procs:
            p.stdin.close()
            p.wait()


@pytest.mark.parametrize("terminal", [False, True])
def test_log_lines_are_the_same_with_or_without_a_terminal(splits, caplog, monkeypatch, terminal):
    """A job log must not depend on whether stderr was a terminal: the rich bar comes on
    top of the log lines, never instead of them."""
    import autosnap.progress
    import autosnap.training.trainer

    for module in (autosnap.progress, autosnap.training.trainer):
        monkeypatch.setattr(module, "interactive", lambda: terminal)
    cfg = TrainConfig(epochs=2, width=4, stages=1, threads=1)
    with caplog.at_level(logging.INFO, logger="autosnap"):
        train_child(Snap.parse("c3"), *splits, cfg, DEVICE)
        list(autosnap.progress.track(range(4), 4, "counting", lines=2))
    lines = [r.getMessage() for r in caplog.records]
    assert sum("c3: epoch" in m for m in lines) == 2, lines
    assert sum(m.startswith("counting: ") for m in lines) == 2, lines


@pytest.mark.parametrize("variable", ["SLURM_JOB_GPUS", "SLURM_STEP_GPUS", "SLURM_GPUS_ON_NODE"])
def test_a_job_given_gpus_never_trains_on_the_cpu_in_silence(monkeypatch, variable):
    """Inside a Slurm job that was given a GPU (what Slurm sets, simulated), `auto`
    means CUDA: without a working one the job fails in one line that names the Slurm
    variable and why CUDA is missing; outside such a job `auto` is still the CPU."""
    from autosnap.errors import InputError
    from autosnap.training.device import SLURM_GPU_VARIABLES, job_device, select_device

    for name in SLURM_GPU_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert select_device("auto") == torch.device("cpu")
    monkeypatch.setenv(variable, "2")
    with pytest.raises(InputError, match=rf"Slurm job was given GPUs \({variable}=2\).*CPU-only"):
        select_device("auto")
    monkeypatch.delenv(variable)
    with pytest.raises(InputError, match="device 'cuda' asked for, but CUDA is not available"):
        select_device("cuda")
    assert job_device("auto", {"gpu": 1}) == "cuda"
    assert job_device("auto", {"gres": "gpu:a100:1"}) == "cuda"
    assert job_device("auto", {"gpu": 0}) == "auto" and job_device("cpu", {"gpu": 1}) == "cpu"


def test_the_job_log_names_the_device_it_trains_on(data_dir, tmp_path):
    (tmp_path / "c.yaml").write_text("train: {steps: 2, width: 4, stages: 1, threads: 1}\n")
    r = subprocess.run([AUTOSNAP, "train", "--snap", "c3", "--data", str(data_dir), "--config",
                        str(tmp_path / "c.yaml"), "--out", str(tmp_path / "c.parquet")],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "training on cpu (1 threads)" in r.stderr


def last_loss(caplog) -> str:
    """The loss of the last epoch logged (as a job log shows it), then forget the log."""
    lines = [r.getMessage() for r in caplog.records if " loss " in r.getMessage()]
    caplog.clear()
    return lines[-1].split(" loss ")[1].split()[0]


def test_a_training_stopped_and_continued_equals_one_straight_through(splits, tmp_path, caplog):
    """Successive halving's continuation: trained to epoch 2, saved, and continued to 4
    in a fresh model, a child has the weights, value and loss of a training straight to
    4, bit for bit on the CPU; the schedule spans the whole budget either way."""
    train, val = splits
    cfg = TrainConfig(epochs=4, width=4, seed=5)
    snap = Snap.parse("dup c3 s3 add")
    caplog.set_level(logging.INFO)
    straight, straight_model = train_child(snap, train, val, cfg, DEVICE)
    loss = last_loss(caplog)
    rung, _ = train_child(snap, train, val, cfg, DEVICE, until=2, resume_out=tmp_path / "e2.pt")
    assert rung["epochs"] == 2 and rung["status"] == "ok" and rung["value"] != straight["value"]
    caplog.clear()
    done, model = train_child(snap, train, val, cfg, DEVICE, resume=tmp_path / "e2.pt")
    assert done["epochs"] == 4 and done["value"] == straight["value"]
    assert last_loss(caplog) == loss
    for (name, a), b in zip(straight_model.state_dict().items(), model.state_dict().values(),
                            strict=True):  # fmt: skip
        assert torch.equal(a, b), name
    again, _ = train_child(snap, train, val, cfg, DEVICE, until=4)  # `until` the budget
    assert again["value"] == straight["value"]


@pytest.mark.slow
def test_a_rung_is_cached_and_its_continuation_trains_only_the_epochs_after_it(
    data_dir, tmp_path, caplog
):
    """The cache keys a child by the epochs it reached: a training to epoch 2 is an
    entry with the state it stopped in; the training to the whole budget continues from
    it (epochs 3 and 4 only) and its row is a straight training's."""
    from autosnap.training.runner import train_snaps

    cfg = TrainConfig(epochs=4, width=4, seed=2, threads=THREADS)
    snap, meta = Snap.parse("dup c3 add"), {"round": 0, "slot": 0, "origin": "random"}
    cache = tmp_path / "cache"

    def train(until, out, cache_dir=cache):
        caplog.clear()
        (row,) = train_snaps([snap], [meta], [tmp_path / out], data_dir, cfg,
                             cache_dir=cache_dir, until=until)  # fmt: skip
        epochs = [m.split("epoch ")[1].split()[0] for m in caplog.messages if " loss " in m]
        return row, epochs

    caplog.set_level(logging.INFO)
    rung, epochs = train(2, "r.parquet")
    assert rung["epochs"] == 2 and epochs == ["1/4", "2/4"]
    assert (
        len(list(cache.glob("*-e2.state.pt"))) == 1 and len(list(cache.glob("*-e2.parquet"))) == 1
    )
    full, epochs = train(None, "f.parquet")
    assert full["epochs"] == 4 and epochs == ["3/4", "4/4"]  # nothing trained twice
    again, epochs = train(2, "r2.parquet")  # the rung again: from the cache
    assert epochs == [] and again["value"] == rung["value"]
    straight, _ = train(None, "s.parquet", cache_dir=None)
    assert full["value"] == straight["value"]
    ledger = (cache / "trainings.jsonl").read_text().splitlines()
    assert len(ledger) == 2  # the rung's training and its continuation
