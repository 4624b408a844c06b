"""The cluster path on a real Slurm (tests/cluster/slurm.sh start): the smoke search
through `--profile profiles/slurm`, checked against Slurm's own accounting."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import BIN, ROOT, SNAKEMAKE, workdir

from autosnap.tables import CHILD_COLUMNS


@functools.cache
def slurm_reachable() -> str | None:
    """None when a Slurm controller with accounting answers, else why not."""
    for tool in ("sinfo", "sbatch", "sacct"):
        if shutil.which(tool) is None:
            return f"{tool} not found (start a cluster with tests/cluster/slurm.sh start)"
    for cmd in (["sinfo", "-h"], ["sacct", "-n", "-X", "-S", "now"]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            return f"{' '.join(cmd)} failed: {r.stderr.strip()} (tests/cluster/slurm.sh start)"
    return None


pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
    pytest.mark.skipif(slurm_reachable() is not None, reason=str(slurm_reachable())),
]

#: What a site adds to profiles/slurm (config/site.example.yaml): account and partitions.
SITE = {"resources": {"slurm_account": "autosnap", "cpu_partition": "debug",
                      "gpu_partition": "debug", "child_mem_mb": 1000,
                      "child_runtime_min": 10}}  # fmt: skip
#: One final seed instead of smoke's two: the four final runs (best1, random and the two
#: baselines) still go through the group `final`, and the module, the suite's long
#: pole, runs 4 trainings and at least one Slurm job shorter.
ONE_FINAL_SEED = {"final": {"seeds": [0]}}
#: Rules that run in the Snakemake process itself (localrules), never through the queue.
LOCAL_RULES = ("sample_initial", "collect", "fit", "propose", "random_proposals",
               "random_history", "summary", "report", "export")  # fmt: skip


def sacct_jobs(since: str, workdir: Path) -> pd.DataFrame:
    """The Slurm jobs submitted from `workdir` since `since` (not those of tests that
    run beside this one, such as the head jobs of test_submit.py)."""
    fields = ("JobID,JobName,State,ReqCPUS,ReqMem,TimelimitRaw,Account,Partition,Comment%80,"
              "WorkDir%300")  # fmt: skip
    r = subprocess.run(["sacct", "-n", "-X", "-P", "-S", since, "-o", fields],
                       capture_output=True, text=True, check=True)  # fmt: skip
    rows = [line.split("|") for line in r.stdout.splitlines() if line]
    jobs = pd.DataFrame(rows, columns=fields.replace("%80", "").replace("%300", "").split(","))
    return jobs[jobs["WorkDir"] == str(workdir)].drop(columns="WorkDir").reset_index(drop=True)


def kill_first_child(cache: Path, proc: subprocess.Popen) -> bool:
    """SIGKILL the process training the first child seen running (its marker in the
    child cache names the pid), inside its Slurm job, as an out-of-memory killer or a
    failing node would. (`scancel` is no stand-in: the Slurm plugin 2.x does not read
    'CANCELLED by <uid>' as a failure and waits for such a job forever.)"""
    while proc.poll() is None:  # waits on progress: a loaded machine is only slower
        for marker in cache.glob("*.started") if cache.exists() else []:
            try:
                os.kill(int(marker.read_text().split()[1]), signal.SIGKILL)
                return True
            except (FileNotFoundError, IndexError, ProcessLookupError):
                continue  # the child ended in between
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory):
    """The smoke search through Slurm, with the first training job killed while it
    trains a child: the profile's retries must carry the search through."""
    cwd = workdir(tmp_path_factory.mktemp("slurm"))
    (cwd / "site.yaml").write_text(yaml.safe_dump({**SITE, **ONE_FINAL_SEED}))
    since = datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    time.sleep(1)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [SNAKEMAKE, "--profile", "profiles/slurm", "--configfile", "config/smoke.yaml", "site.yaml",
         "--slurm-init-seconds-before-status-checks", "2", "--seconds-between-status-checks", "2"],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={"PATH": f"{BIN}:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(cwd)},
    )  # fmt: skip
    killed = kill_first_child(cwd / "results/cache/children", proc)
    out, _ = proc.communicate(timeout=3600)  # a hang, not a budget
    assert proc.returncode == 0, out[-6000:]
    return cwd, sacct_jobs(since, cwd), time.perf_counter() - start, out, killed


def test_every_job_went_through_slurm_and_completed(slurm_run):
    cwd, jobs, seconds, *_ = slurm_run
    done = jobs[jobs["State"] != "FAILED"]  # the one killed on purpose
    assert len(done) > 0 and (done["State"] == "COMPLETED").all(), jobs.to_string()
    assert (jobs["State"] == "FAILED").sum() == 1, jobs.to_string()
    assert (jobs["Account"] == "autosnap").all() and (jobs["Partition"] == "debug").all()
    rules = {c.split("_wildcards_")[0].removeprefix("rule_") for c in jobs["Comment"]}
    assert "prepare_data" in rules and any("final" in r for r in rules), rules
    assert not rules & set(LOCAL_RULES), "light rules went through the queue"
    print(f"smoke search through Slurm: {seconds:.0f} s, {len(jobs)} Slurm jobs")


def test_a_group_job_asks_for_one_child_and_the_sum_of_their_runtimes(slurm_run):
    """The plugin runs a group's members one after another (`trainings=1` per Slurm job
    in profiles/slurm), so a group job books one child's CPUs and memory, not the sum."""
    _, jobs, *_ = slurm_run
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    retried = set(jobs.loc[jobs["State"] == "FAILED", "Comment"])  # retries ask for more
    groups = jobs[jobs["Comment"].str.contains("rule_children_") & ~jobs["Comment"].isin(retried)]
    assert len(groups) > 0, jobs.to_string()
    assert (groups["ReqCPUS"].astype(int) == cfg["train"]["threads"]).all(), groups.to_string()
    assert (groups["ReqMem"] == f"{SITE['resources']['child_mem_mb']}M").all(), groups.to_string()
    members = groups["Comment"].str.count(r"_train_(?:child|random)_\d+")
    per_job = SITE["resources"]["child_runtime_min"] * cfg["resources"]["chunk"]
    runtime = groups["TimelimitRaw"].astype(int)
    assert (members > 1).any() and (runtime == per_job * members).all(), groups.to_string()


def test_a_killed_job_is_retried_and_no_child_is_lost(slurm_run):
    cwd, jobs, _, _, killed = slurm_run
    assert killed, "no child was seen training, so none was killed"
    failed = jobs[jobs["State"] == "FAILED"].iloc[0]
    again = jobs[
        (jobs["Comment"] == failed["Comment"]) & (jobs["JobID"].astype(int) > int(failed["JobID"]))
    ]
    assert (again["State"] == "COMPLETED").any(), jobs.to_string()  # the retry
    cfg = yaml.safe_load((cwd / "config/smoke.yaml").read_text())
    rounds, k = cfg["search"]["rounds"], cfg["search"]["children"]
    history = pd.read_parquet(cwd / f"results/round_{rounds - 1}/history.parquet")
    assert len(history) == rounds * k and (history["status"] == "ok").all()


def test_grouped_children_are_fewer_slurm_jobs(slurm_run):
    _, jobs, *_ = slurm_run
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    rounds, k, chunk = cfg["search"]["rounds"], cfg["search"]["children"], cfg["resources"]["chunk"]
    done = jobs[jobs["State"] == "COMPLETED"]  # not the killed try
    search = done[done["Comment"].str.contains(r"rule_children_\d+_", regex=True)]
    assert 0 < len(search) < rounds * -(-k // chunk), jobs.to_string()
    random = done[done["Comment"].str.contains("rule_children_random_")]
    assert 0 < len(random) < -(-rounds * k // chunk), jobs.to_string()
    final = done[done["Comment"].str.startswith("rule_final_")]  # 4 runs, group final=4
    assert 0 < len(final) < 4, jobs.to_string()


def test_results_have_the_shape_of_a_local_run(slurm_run):
    cwd, *_ = slurm_run
    cfg = yaml.safe_load((cwd / "config/smoke.yaml").read_text())
    history = pd.read_parquet(cwd / f"results/round_{cfg['search']['rounds'] - 1}/history.parquet")
    assert list(history.columns) == CHILD_COLUMNS
    assert len(history) == cfg["search"]["rounds"] * cfg["search"]["children"]
    assert (history["status"] == "ok").all()
    summary = pd.read_parquet(cwd / "results/final/summary.parquet")
    assert list(summary["candidate"]) == ["best1", "random", "i3posnet", "resnet"]


def test_a_smoke_search_with_rungs_runs_through_slurm(tmp_path):
    """search.fidelity through profiles/slurm: every rung's training jobs go through the
    queue (rung 1 as its group `rung1_{round}`), promote runs in the Snakemake process."""
    cwd = workdir(tmp_path)
    (cwd / "site.yaml").write_text(yaml.safe_dump(SITE))
    since = datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    time.sleep(1)
    target = "results/round_1/history.parquet"
    r = subprocess.run(
        [SNAKEMAKE, target, "--profile", "profiles/slurm", "--configfile", "config/smoke.yaml",
         "config/smoke_fidelity.yaml", "site.yaml", "--slurm-init-seconds-before-status-checks",
         "2", "--seconds-between-status-checks", "2"],
        cwd=cwd, capture_output=True, text=True, timeout=3600,
        env={"PATH": f"{BIN}:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(cwd)},
    )  # fmt: skip
    assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]
    jobs = sacct_jobs(since, cwd)
    assert (jobs["State"] == "COMPLETED").all(), jobs.to_string()
    comments = " ".join(jobs["Comment"])
    assert "train_rung0_" in comments and "train_rung1_" in comments, jobs.to_string()
    assert "promote" not in comments, "promote went through the queue"
    history = pd.read_parquet(cwd / target)
    assert [sorted(g) for _, g in history.groupby("round")["rung"]] == [[0, 0, 1, 1]] * 2
