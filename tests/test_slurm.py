"""The cluster path on a real Slurm (tests/cluster/slurm.sh start): the smoke search
through `--profile profiles/slurm`, checked against Slurm's own accounting."""

from __future__ import annotations

import functools
import shutil
import subprocess
import time
from datetime import datetime

import pandas as pd
import pytest
import yaml
from test_workflow import BIN, ROOT, SNAKEMAKE, workdir

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

#: What a site's own profile or command line adds to profiles/slurm.
SITE = ["--default-resources", "slurm_partition=debug", "slurm_account=autosnap",
        "mem_mb=1000", "runtime=10", "--slurm-init-seconds-before-status-checks", "2"]  # fmt: skip


def sacct_jobs(since: str) -> pd.DataFrame:
    fields = "JobID,JobName,State,ReqCPUS,ReqMem,Account,Partition,Comment%80"
    r = subprocess.run(["sacct", "-n", "-X", "-P", "-S", since, "-o", fields],
                       capture_output=True, text=True, check=True)  # fmt: skip
    rows = [line.split("|") for line in r.stdout.splitlines() if line]
    return pd.DataFrame(rows, columns=fields.replace("%80", "").split(","))


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory):
    cwd = workdir(tmp_path_factory.mktemp("slurm"))
    since = datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    time.sleep(1)
    start = time.perf_counter()
    r = subprocess.run(
        [SNAKEMAKE, "--profile", "profiles/slurm", "--configfile", "config/smoke.yaml", *SITE],
        cwd=cwd, capture_output=True, text=True, timeout=900,
        env={"PATH": f"{BIN}:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(cwd)},
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    return cwd, sacct_jobs(since), time.perf_counter() - start, r.stderr


def test_every_job_went_through_slurm_and_completed(slurm_run):
    cwd, jobs, seconds, _ = slurm_run
    assert len(jobs) > 0 and (jobs["State"] == "COMPLETED").all(), jobs.to_string()
    assert (jobs["Account"] == "autosnap").all() and (jobs["Partition"] == "debug").all()
    rules = " ".join(jobs["Comment"])
    for rule in ("prepare_data", "sample_initial", "collect", "fit", "propose", "final",
                 "summary", "report"):  # fmt: skip
        assert f"rule_{rule}" in rules or rule in rules, f"{rule} did not run on Slurm"
    print(f"smoke search through Slurm: {seconds:.0f} s, {len(jobs)} Slurm jobs")


def test_resources_are_what_the_rules_asked_for(slurm_run):
    _, jobs, _, _ = slurm_run
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    train = jobs[jobs["Comment"].str.contains("train_child|children")]
    assert len(train) > 0
    assert (train["ReqCPUS"].astype(int) >= cfg["train"]["threads"]).all()
    fit = jobs[jobs["Comment"].str.contains("fit")]
    assert (fit["ReqCPUS"].astype(int) == 2).all()


def test_grouped_children_are_fewer_slurm_jobs(slurm_run):
    _, jobs, _, _ = slurm_run
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    chunk_jobs = cfg["search"]["rounds"] * -(
        -cfg["search"]["children"] // cfg["resources"]["chunk"]
    )
    grouped = jobs[jobs["Comment"].str.contains("children")]
    assert 0 < len(grouped) < chunk_jobs


def test_results_have_the_shape_of_a_local_run(slurm_run):
    cwd, *_ = slurm_run
    cfg = yaml.safe_load((cwd / "config/smoke.yaml").read_text())
    history = pd.read_parquet(cwd / f"results/round_{cfg['search']['rounds'] - 1}/history.parquet")
    assert list(history.columns) == CHILD_COLUMNS
    assert len(history) == cfg["search"]["rounds"] * cfg["search"]["children"]
    assert (history["status"] == "ok").all()
    summary = pd.read_parquet(cwd / "results/final/summary.parquet")
    assert list(summary["candidate"]) == ["best1", "resnet"]
