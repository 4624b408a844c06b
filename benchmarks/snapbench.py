"""SNAP-Bench: strategies compared on a fully tabulated SNAP space, 20+ paired seeds.

Two steps:

    python benchmarks/snapbench.py --tabulate   # train the space through the workflow
    python benchmarks/snapbench.py              # the tabular search benchmark (minutes)

`--tabulate` runs `snakemake --configfile config/snapbench.yaml --cores 2 bench` in
benchmarks/work/snapbench (every SNAP of at most 4 symbols but `ap`, 2,016 members,
trained once, 10 % again with two more seeds) and commits the table to
benchmarks/results/snapbench_table.parquet with the wall time and command in its
metadata. The benchmark runs each strategy's search on
that table (`propose` with the SNAP grammar restricted to the space, so every proposal
is a member; K per round, round 0 random and shared by the strategies of one seed) and
reports with autosnap.search.compare's protocol: validation regret at 50 and 100
queries, percentile of the architecture found, paired Wilcoxon with wins / ties /
losses, and the value model's Kendall tau on the next round's children and on the
table's top 10 %.

Writes benchmarks/results/snapbench_{curves,regret,pairs,predictor}.csv and
snapbench.png.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from budget import VALUE_MODEL_HELP, demo_value_model
from curves import merge_earlier, plot_regret
from machine import machine
from summary import publish
from variants import VARIANTS, run_all

from autosnap.search import compare
from autosnap.search.bench import bench_config
from autosnap.search.tabular import Lookup

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TABLE = HERE / "results" / "snapbench_table.parquet"
CONFIG = "config/snapbench.yaml"


def tabulate(cores: int) -> None:
    """Run (or resume: finished children come back from the child cache, and the
    profile reruns jobs a stop left incomplete) the tabulation, then commit its table."""
    work = HERE / "work" / "snapbench"
    work.mkdir(parents=True, exist_ok=True)
    for name in ("workflow", "config", "profiles", "resources"):
        shutil.rmtree(work / name, ignore_errors=True)
        shutil.copytree(ROOT / name, work / name)
    cmd = [str(Path(sys.executable).parent / "snakemake"), "--configfile", CONFIG,
           "--cores", str(cores), "bench"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, cwd=work, check=True)
    wall = time.perf_counter() - start
    table = pd.read_parquet(work / "results/bench/table.parquet")
    command = f"snakemake --configfile {CONFIG} --cores {cores} bench"
    table.attrs.update(wall_seconds=wall, machine=machine(), command=command)
    table.to_parquet(TABLE, index=False)
    noise = table.attrs["noise"]
    print(f"{len(table)} members, {table.attrs['trainings']} trainings in {wall / 60:.1f} min; "
          f"between/within sd {noise['ratio']:.2f}", flush=True)  # fmt: skip


def lookup(table: pd.DataFrame) -> Lookup:
    ok = table[table["status"] == "ok"]
    # a member that failed to train is a valid query as bad as the worst one (a search
    # that picks it has spent a training on it, as in the workflow)
    worst = (ok["value"].min(), ok["test_value"].min())
    values = {r.snap_id: (r.value, r.test_value) for r in ok.itertuples()}
    values |= {sid: worst for sid in table.loc[table["status"] != "ok", "snap_id"]}
    top = ok.nlargest(max(1, len(ok) // 10), "value")
    grammar = bench_config(table.attrs["bench"]).grammar  # proposals stay in the space
    return Lookup(grammar, values,
                  tuple((tuple(s.split()), v) for s, v in zip(top["snap"], top["value"],
                                                              strict=True)))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tabulate", action="store_true", help="train the space (hours)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--strategies", nargs="+", default=["autosnap", "evolution", "random"],
                    help=f"strategies and autosnap variants ({', '.join(VARIANTS)})")  # fmt: skip
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seeds first-seed .. first-seed + seeds - 1 (20: the held-out seeds "
                         "that confirm a variant chosen on 0-19, in their own --out)")  # fmt: skip
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--k", type=int, default=10, help="queries per round")
    ap.add_argument("--table", default=str(TABLE), help="the tabulated space")
    ap.add_argument("--out", default=str(HERE / "results"), help="folder of the tables")
    ap.add_argument("--add", action="store_true",
                    help="keep the other curves of an earlier run in --out")  # fmt: skip
    ap.add_argument("--from-curves", action="store_true",
                    help="no searches: apply the protocol to the committed curves")  # fmt: skip
    ap.add_argument("--value-model", help=VALUE_MODEL_HELP)
    args = ap.parse_args()
    if args.tabulate:
        tabulate(args.cores)
        return
    bench = lookup(pd.read_parquet(args.table))
    out = Path(args.out)
    if args.from_curves:
        protocol(pd.read_csv(out / "snapbench_curves.csv"), bench, out)
        return
    start = time.perf_counter()
    work = HERE / "work" / "snapbench_search" / Path(args.table).stem
    curves, pred = run_all(bench, args.strategies, args.seeds, args.first_seed, args.rounds, args.k,
                           demo_value_model(args.value_model), args.cores, work)  # fmt: skip
    print(f"{curves.groupby(['strategy', 'seed']).ngroups} searches in "
          f"{time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    if args.add:
        curves = merge_earlier(curves, out / "snapbench_curves.csv", ["strategy"])
    # full precision: a later --add pairs these values with fresh ones exactly
    curves.to_csv(out / "snapbench_curves.csv", index=False)
    protocol(curves, bench, out)
    if not pred.empty:
        pred = (pred.groupby(["strategy", "round"])[["trained_on", "tau_next", "tau_top10"]]
                .mean().reset_index())  # fmt: skip
        if args.add:
            pred = merge_earlier(pred, out / "snapbench_predictor.csv", ["strategy"])
        publish(pred, out, "snapbench_predictor")


def protocol(curves: pd.DataFrame, bench: Lookup, out: Path) -> None:
    """The comparison protocol on the curves: validation regret and percentile at 50 and
    100 queries, paired Wilcoxon per pair of strategies, and the regret figure."""
    at = compare.query_counts(curves["queries"].max())
    reg = compare.regrets(curves, bench.best_valid, at)
    found = curves[curves["queries"].isin(at)].set_index(["strategy", "seed", "queries"])
    all_values = [v for v, _ in bench.values.values()]
    reg["percentile"] = compare.percentile(found["best_valid"], all_values).values
    secondary = (found.assign(percentile=reg["percentile"].values)
                 .groupby(["strategy", "queries"])
                 .agg(percentile_mean=("percentile", "mean"),
                      test_of_best_valid_mean=("test_of_best_valid", "mean")))  # fmt: skip
    summ = compare.summary(reg).merge(secondary.reset_index(), on=["strategy", "queries"])
    summ["machine"] = machine()
    publish(summ, out, "snapbench_regret")
    publish(compare.pairs(reg, first="autosnap"), out, "snapbench_pairs")
    regret = curves.assign(regret=bench.best_valid - curves["best_valid"])
    plot_regret([(regret, "SNAP-Bench", "validation regret (mean over seeds, band ± sd)")],
                out / "snapbench.png")  # fmt: skip


if __name__ == "__main__":
    main()
