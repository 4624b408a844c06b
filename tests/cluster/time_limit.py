"""The time-limit path on the real test cluster, run by hand (it takes about 5 minutes,
too long for the suite: Slurm's time limits count in minutes).

A child far longer than its job's time limit (resources.child_runtime_min: 1) is
stopped by Slurm (state TIMEOUT), retried by the profile with twice and then three times
the runtime, and on the third attempt recorded as `killed` without training again; the
round completes.

    bash tests/cluster/slurm.sh start
    python tests/cluster/time_limit.py

Prints the Slurm jobs of the training rule with their states and time limits, and the
child's row; exits 1 when any of that is not as described.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import BIN, SNAKEMAKE, workdir  # noqa: E402

OVERLAY = {
    "search": {"rounds": 1, "children": 1},
    "train": {"epochs": 100000},  # never ends within the limit
    "resources": {"slurm_account": "autosnap", "cpu_partition": "debug",
                  "gpu_partition": "debug", "child_mem_mb": 1000, "child_runtime_min": 1,
                  "chunk": 1},
}  # fmt: skip
TARGET = "results/round_0/history.parquet"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        cwd = workdir(Path(tmp))
        (cwd / "limit.yaml").write_text(yaml.safe_dump(OVERLAY))
        since = datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
        time.sleep(1)
        start = time.perf_counter()
        r = subprocess.run(
            [SNAKEMAKE, "--profile", "profiles/slurm", "--configfile", "config/smoke.yaml",
             "limit.yaml", "--slurm-init-seconds-before-status-checks", "2", TARGET],
            cwd=cwd, capture_output=True, text=True,
            env={"PATH": f"{BIN}:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(cwd)},
        )  # fmt: skip
        seconds = time.perf_counter() - start
        fields = "JobID,State,Timelimit,Elapsed,Comment%80"
        out = subprocess.run(["sacct", "-n", "-X", "-P", "-S", since, "-o", fields],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        jobs = pd.DataFrame([ln.split("|") for ln in out.splitlines() if ln],
                            columns=fields.replace("%80", "").split(","))  # fmt: skip
        train = jobs[jobs["Comment"].str.contains("train_child|children")]
        print(f"snakemake exit {r.returncode} after {seconds:.0f} s")
        print(train.to_string(index=False))
        if r.returncode != 0:
            print(r.stdout[-3000:] + r.stderr[-3000:])
            return 1
        row = pd.read_parquet(cwd / TARGET).iloc[0]
        print(f"child {row['snap']!r}: status {row['status']}, error: {row['error']}")
        ok = (list(train["State"]) == ["TIMEOUT", "TIMEOUT", "COMPLETED"]
              and row["status"] == "killed" and "died 2 times" in row["error"])  # fmt: skip
        print("as described" if ok else "NOT as described")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
