"""What the queue costs: the smoke search locally vs through `--profile profiles/slurm`.

Runs the whole smoke search (config/smoke.yaml, every stage to the report) twice in fresh
folders on this machine: with `--cores 2`, and through a real Slurm (start one with
`tests/cluster/slurm.sh start`) with the profile, the test cluster's account and
partition in a site config, and `--slurm-init-seconds-before-status-checks 2` as the
cluster tests use. Counts the Slurm jobs in `sacct`.

    python -m benchmarks run benchmarks/experiments/slurm_overhead.yaml

Appends to benchmarks/results/slurm_overhead.csv (one row per run and label).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.measure import machine, publish

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
ROOT = HERE.parent
BIN = Path(sys.executable).parent
SITE = {"resources": {"slurm_account": "autosnap", "cpu_partition": "debug",
                      "gpu_partition": "debug", "child_mem_mb": 1000}}  # fmt: skip


def run(work: Path, *args: str) -> float:
    for name in ("workflow", "config", "profiles", "resources"):
        shutil.copytree(ROOT / name, work / name)
    (work / "site.yaml").write_text(yaml.safe_dump(SITE))
    env = {"PATH": f"{BIN}:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(work)}
    start = time.perf_counter()
    cmd = [str(BIN / "snakemake"), "--configfile", "config/smoke.yaml", "site.yaml", *args]
    r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(
            f"snakemake {' '.join(args)} failed:\n{r.stdout[-3000:]}{r.stderr[-3000:]}"
        )
    return time.perf_counter() - start


def slurm_jobs(since: str) -> int:
    r = subprocess.run(["sacct", "-n", "-X", "-P", "-S", since, "-o", "JobID"],
                       capture_output=True, text=True, check=True)  # fmt: skip
    return len(r.stdout.split())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", default="", help="what this measures (e.g. a code version)")
    parser.add_argument("--out", default=str(HERE / "results" / "slurm_overhead"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        local = run(Path(tmp) / "local", "--cores", "2")
        since = datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
        time.sleep(1)
        slurm = run(Path(tmp) / "slurm", "--profile", "profiles/slurm",
                    "--slurm-init-seconds-before-status-checks", "2")  # fmt: skip
    row = {"label": args.label, "local_s": local, "slurm_s": slurm, "ratio": slurm / local,
           "slurm_jobs": slurm_jobs(since), "machine": machine()}  # fmt: skip
    publish(pd.DataFrame([row]), args.out, "slurm_overhead")


if __name__ == "__main__":
    main()
