"""i3PosNet's setting on a real CT (issue #18): the final table of a finished run.

The run itself is the workflow on config/i3posnet.yaml (48x92 patches at 0.15 mm/px over
projections of the public chest CT; about 1.5 h on a slow 2-core machine), from a clone
or this checkout:

    snakemake --configfile=config/i3posnet.yaml --cores 2
    python -m benchmarks run benchmarks/experiments/i3posnet.yaml [--run PATH_OF_THAT_CHECKOUT]

This script only reads what the run left under `results/` and writes, into
benchmarks/results/: `i3posnet_final.csv` (one row per final candidate: test landmark,
position and angle error, mean and sd over the final seeds, parameters, MACs, latency,
and landmark error and parameters relative to the i3PosNet-style baseline),
`i3posnet_seeds.csv` (the per-seed rows behind it), `i3posnet_examples.png` and
`i3posnet_anatomy.png` (the data over the real CT), `i3posnet_predictions.png` (the best
candidate on test patches) and `i3posnet_progress.png` (the search).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pandas as pd

from autosnap.pipeline.final import FINAL_COLUMNS
from autosnap.pipeline.final import METRICS as FINAL_METRICS
from autosnap.tables import read_table
from benchmarks.measure import machine

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
BASELINE = "i3posnet"
#: the final stage's errors (its metrics less the validation value)
METRICS = [m for m in FINAL_METRICS if m != "value"]
#: run file under results/ -> benchmark figure
FIGURES = {
    "data/examples.png": "i3posnet_examples.png",
    "data/anatomy.png": "i3posnet_anatomy.png",
    "report/examples.png": "i3posnet_predictions.png",
    "report/progress.png": "i3posnet_progress.png",
}


def job_seconds(results: Path) -> float:
    """Summed wall seconds of the run's jobs (Snakemake's per-job benchmark files): what
    the run cost on its cores, pauses between jobs not counted."""
    return float(sum(pd.read_csv(p, sep="\t")["s"].sum()
                     for p in (results / "benchmarks").rglob("*.tsv")))  # fmt: skip


def final_table(results: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per candidate, per seed) of a finished run, each candidate set against the
    i3PosNet-style baseline (ratio < 1: smaller than the baseline's)."""
    summary = read_table(results / "final" / "summary.parquet")
    if BASELINE not in set(summary["candidate"]):
        raise SystemExit(f"{results}/final/summary.parquet has no '{BASELINE}' row: "
                         "run the workflow with config/i3posnet.yaml first")  # fmt: skip
    base = summary.set_index("candidate").loc[BASELINE]
    stats = [f"{m}_{s}" for m in METRICS for s in ("mean", "std")]
    table = summary[["candidate", "snap", "seeds", "seeds_ok", *stats, "params", "macs",
                     "latency_ms"]].copy()  # fmt: skip
    table["landmark_err_vs_i3posnet"] = table["landmark_err_mm_mean"] / base["landmark_err_mm_mean"]
    table["params_vs_i3posnet"] = table["params"] / base["params"]
    seeds = pd.concat([read_table(p, FINAL_COLUMNS)
                       for p in sorted((results / "final").glob("*/seed_*.parquet"))],
                      ignore_index=True)  # fmt: skip
    keep = ["candidate", "seed", "snap", "status", "value", *METRICS, "params", "macs",
            "latency_ms", "train_seconds", "error"]  # fmt: skip
    return table, seeds[keep]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default=".", help="the checkout the i3posnet run wrote results/ in")
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    results, out = Path(args.run) / "results", Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table, seeds = final_table(results)
    children = len(read_table(sorted(results.glob("round_*/history.parquet"))[-1]))
    table["search_children"] = children
    table["job_hours"] = job_seconds(results) / 3600
    table["machine"] = machine()
    table.to_csv(out / "i3posnet_final.csv", index=False)
    seeds.to_csv(out / "i3posnet_seeds.csv", index=False)
    for src, dst in FIGURES.items():
        if (results / src).exists():
            shutil.copyfile(results / src, out / dst)
    cols = ["candidate", "snap", *(f"{m}_mean" for m in METRICS), "landmark_err_mm_std",
            "params", "landmark_err_vs_i3posnet"]  # fmt: skip
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
