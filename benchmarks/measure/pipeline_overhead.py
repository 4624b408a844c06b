"""What running children through Snakemake costs over calling the trainer in a loop.

N children with a trivially short budget (a few optimiser steps on the smoke data) are
trained (a) by calling autosnap.training.runner.train_snaps once in this process, and (b) through
the real `snakemake` on one core (so both run one child at a time), with `chunk`
children per job (1: a process per child; N: all in one job). The ratio is wall time per
child (b) / (a); `not_training` is the share of (b)'s wall time outside the training
loops (process start, torch import, data loading, scheduling, writing tables).

    python -m benchmarks run benchmarks/experiments/pipeline_overhead.yaml

Writes benchmarks/results/pipeline_overhead.csv.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from autosnap.space.snap import Snap
from autosnap.tables import read_table
from autosnap.training.config import train_config
from autosnap.training.runner import train_snaps
from benchmarks.measure import machine, publish

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
ROOT = HERE.parent
BIN = Path(sys.executable).parent


def config(children: int, chunk: int) -> dict:
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    cfg["train"] = {"steps": 5, "width": 8, "threads": 1}
    cfg["search"].update(rounds=1, children=children)
    cfg["resources"]["chunk"] = chunk
    return cfg


def through_snakemake(children: int, chunk: int, work: Path) -> tuple[float, float]:
    """(wall seconds of the training jobs and collect, summed train_seconds)."""
    for name in ("workflow", "config", "resources"):
        shutil.copytree(ROOT / name, work / name)
    (work / "bench.yaml").write_text(yaml.safe_dump(config(children, chunk)))
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(work)}

    def snakemake(target: str) -> None:
        cmd = [str(BIN / "snakemake"), target, "--configfile", "bench.yaml", "--cores", "1",
               "--quiet", "all"]  # fmt: skip
        r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")

    snakemake("results/round_0/proposals.parquet")
    start = time.perf_counter()
    snakemake("results/round_0/history.parquet")
    wall = time.perf_counter() - start
    history = read_table(work / "results/round_0/history.parquet")
    return wall, float(history["train_seconds"].sum())


def in_process(children: int, work: Path) -> tuple[float, float]:
    """The same children, read from the Snakemake run's proposals, in one loop here
    (data loaded once, torch already imported: the floor a pipeline can reach)."""
    props = read_table(work / "results/round_0/proposals.parquet")
    snaps = [Snap.parse(s, 64) for s in props["snap"]]
    metas = [{"round": 0, "slot": i, "origin": "random"} for i in range(len(snaps))]
    outs = [work / "inproc" / f"{i}.parquet" for i in range(len(snaps))]
    cfg = config(children, 1)
    start = time.perf_counter()
    rows = train_snaps(snaps, metas, outs, work / "results/data", train_config(cfg["train"]))
    return time.perf_counter() - start, float(sum(r["train_seconds"] for r in rows))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--children", type=int, default=24)
    p.add_argument("--chunks", type=int, nargs="+", default=[1, 4, 24])
    p.add_argument("--out", default=str(HERE / "results"))
    args = p.parse_args(argv)
    rows = []
    base = None
    for chunk in args.chunks:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            wall, trained = through_snakemake(args.children, chunk, work)
            if base is None:
                base = in_process(args.children, work)
        rows.append({"mode": "snakemake", "children": args.children, "chunk": chunk,
                     "wall_s": wall, "per_child_s": wall / args.children,
                     "train_s": trained, "not_training": 1 - trained / wall})  # fmt: skip
        print(rows[-1])
    wall0, trained0 = base
    df = pd.DataFrame(rows)
    df["inprocess_per_child_s"] = wall0 / args.children
    df["inprocess_not_training"] = 1 - trained0 / wall0
    df["ratio"] = df["per_child_s"] / df["inprocess_per_child_s"]
    df["machine"] = machine()
    publish(df, args.out, "pipeline_overhead")


if __name__ == "__main__":
    main()
