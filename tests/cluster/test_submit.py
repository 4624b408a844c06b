"""The head job (profiles/slurm/submit.sbatch) on a real Slurm: it finds its environment
through AUTOSNAP_ACTIVATE, takes the account and partition it is given, and says what
is missing when it finds no snakemake."""

from __future__ import annotations

import subprocess
import time

import pytest
import yaml
from helpers import BIN, HANG_S, workdir
from test_slurm import SITE, slurm_reachable

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(slurm_reachable() is not None, reason=str(slurm_reachable())),
]
#: What a login shell without autosnap's environment has.
BARE = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}


def submit(cwd, env: dict[str, str], *args: str) -> tuple[str, dict[str, str], str]:
    """sbatch the head job with a dry run of the smoke search; wait for it to leave the
    queue (on progress, not a budget); its job id, sacct's record and its log."""
    cmd = ["sbatch", "--parsable", "-A", "autosnap", "-p", "debug", "profiles/slurm/submit.sbatch",
           "--configfile", "config/smoke.yaml", "site.yaml", "-n", *args]  # fmt: skip
    r = subprocess.run(cmd, cwd=cwd, env={**BARE, "HOME": str(cwd), **env},
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    job = r.stdout.strip().split(";")[0]
    start = time.monotonic()
    queued = ["squeue", "-h", "-j", job]
    while subprocess.run(queued, capture_output=True, text=True).stdout.strip():
        assert time.monotonic() - start < HANG_S, f"head job {job} hangs"
        time.sleep(0.5)
    fields = ["State", "Account", "Partition"]
    while True:  # accounting records the end, and on a busy machine the partition, a
        # moment after the queue lets go of the job: wait for a complete record
        out = subprocess.run(["sacct", "-n", "-X", "-P", "-j", job, "-o", ",".join(fields)],
                             capture_output=True, text=True).stdout.strip()  # fmt: skip
        record = dict(zip(fields, out.split("|"), strict=True)) if out else {}
        if record.get("State") in ("COMPLETED", "FAILED") and all(record.values()):
            break
        assert time.monotonic() - start < HANG_S, f"head job {job} not accounted: {out}"
        time.sleep(0.5)
    return job, record, (cwd / f"autosnap-head-{job}.log").read_text()


def test_the_head_job_activates_its_environment_and_takes_account_and_partition(tmp_path):
    cwd = workdir(tmp_path)
    (cwd / "site.yaml").write_text(yaml.safe_dump(SITE))
    _, record, log = submit(cwd, {"AUTOSNAP_ACTIVATE": f"source {BIN}/activate"})
    assert record == {"State": "COMPLETED", "Account": "autosnap", "Partition": "debug"}, log
    assert "This was a dry-run" in log and "train_child_0" in log, log


def test_a_head_job_without_snakemake_says_how_to_activate_one(tmp_path):
    cwd = workdir(tmp_path)
    (cwd / "site.yaml").write_text(yaml.safe_dump(SITE))
    _, record, log = submit(cwd, {})
    assert record["State"] == "FAILED", log
    assert "snakemake not found in the head job's environment: set AUTOSNAP_ACTIVATE" in log
