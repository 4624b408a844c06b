"""What a round's model costs against its children, from a finished run's job files.

Issue #15 asks that a round's value-model fit and proposal stay below half of that
round's child training. The fit after round r and the propose job of round r + 1 are
weighed against round r + 1's child training, read from Snakemake's per-job benchmark
files (`results/benchmarks/round_*/{fit,propose,train_child_*}.tsv`). The training is
given two ways: its job-seconds, and its wall time as run, the job-seconds divided by
the jobs that ran side by side (`--cores`, at most the round's jobs); the share is taken
against the wall time, the stricter of the two.

    python benchmarks/round_share.py RUN_FOLDER [--cores 2] [--label L]

Prints one row per round and, with `--label`, appends them to `results/round_share.csv`.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def seconds(tsv: Path) -> float:
    """The wall seconds of one job (the `s` column of Snakemake's benchmark file)."""
    return float(pd.read_csv(tsv, sep="\t")["s"].iloc[0])


def round_share(run: Path, cores: int) -> pd.DataFrame:
    """Per round r >= 1: the fit after round r - 1, round r's propose job, and round r's
    child training (job-seconds and wall), with fit + propose as a share of the wall."""
    bench = Path(run) / "results" / "benchmarks"
    rows = []
    for r in itertools.count(1):
        fit, propose = bench / f"round_{r - 1}" / "fit.tsv", bench / f"round_{r}" / "propose.tsv"
        jobs = sorted((bench / f"round_{r}").glob("train_child_*.tsv"))
        if not (fit.exists() and propose.exists() and jobs):
            break
        job_s = sum(seconds(j) for j in jobs)
        wall = job_s / min(cores, len(jobs))
        rows.append({"round": r, "fit_s": seconds(fit), "propose_s": seconds(propose),
                     "train_jobs": len(jobs), "train_job_s": job_s,
                     "train_wall_s": wall})  # fmt: skip
    if not rows:
        raise SystemExit(f"{bench}: no round with a fit, a propose job and child training")
    table = pd.DataFrame(rows)
    table["share"] = (table["fit_s"] + table["propose_s"]) / table["train_wall_s"]
    return table.round(3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a run's folder (the one holding results/)")
    ap.add_argument("--cores", type=int, default=2, help="the run's snakemake --cores")
    ap.add_argument("--label", help="append the rows to results/round_share.csv as this")
    args = ap.parse_args()
    table = round_share(args.run, args.cores)
    print(table.to_string(index=False))
    if args.label:
        out = HERE / "results" / "round_share.csv"
        table.insert(0, "label", args.label)
        table.to_csv(out, mode="a", header=not out.exists(), index=False)
        print(f"appended to {out}")


if __name__ == "__main__":
    main()
