"""autosnap's value model and strategies on a public tabular NAS benchmark.

NAS-Bench-Graph (the `nas-bench-graph` wheel ships the results of all 26,206 graph
neural network architectures per dataset) is written as a token grammar of five tokens:
a macro link pattern (L0..L8) and four operations. Identity is the benchmark's own
canonical hash. Each strategy gets the same budget of queries (K per round, round 0
random) and is scored by the test accuracy of the architecture with the best validation
accuracy found so far, and its regret to the best test accuracy in the table; and with
the protocol every comparison uses (autosnap.search.compare): validation regret at 50
and 100 queries, paired Wilcoxon over seeds with wins / ties / losses, and the value
model's Kendall tau on the next round's children.

    python benchmarks/nasbench_graph.py [--datasets cora citeseer] [--seeds 20]

Writes benchmarks/results/nasbench_graph_{curves,final,regret,pairs,predictor}.csv and
nasbench_graph.png.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import time
from dataclasses import dataclass
from pathlib import Path

import nas_bench_graph as nbg
import pandas as pd
from budget import VALUE_MODEL_HELP, demo_value_model
from curves import merge_earlier, plot_regret
from summary import publish
from variants import VARIANTS, run_all

from autosnap.search import compare
from autosnap.search.tabular import Lookup
from autosnap.space import grammar as gr

HERE = Path(__file__).resolve().parent
OPS = tuple(nbg.architecture.gnn_list)
LINKS = tuple(f"L{i}" for i in range(len(nbg.architecture.link_list)))


@dataclass(frozen=True)
class NasBenchGraphGrammar:
    """Link pattern, then four operations; not all four may be `skip`."""

    max_len: int = 5
    symbols: tuple[str, ...] = LINKS + OPS

    def initial_state(self) -> tuple[int, bool]:
        return (0, False)  # position, a non-skip operation seen

    def advance(self, state: tuple[int, bool], symbol: str) -> tuple[int, bool]:
        pos, real = state
        return (pos + 1, real or (pos > 0 and symbol != "skip"))

    def allowed(self, state: tuple[int, bool], remaining: int) -> list[bool]:
        pos, real = state
        if remaining < self.max_len - pos or pos >= self.max_len:
            return [False] * len(self.symbols)
        if pos == 0:
            return [s in LINKS for s in self.symbols]
        last = pos == self.max_len - 1
        return [s in OPS and not (last and not real and s == "skip") for s in self.symbols]

    def can_end(self, state: tuple[int, bool]) -> bool:
        return state[0] == self.max_len

    def key(self, symbols) -> str:
        link = list(nbg.architecture.link_list[LINKS.index(symbols[0])])
        return str(nbg.Arch(link, list(symbols[1:])).valid_hash())


@functools.cache
def lookup(dataset: str) -> tuple[Lookup, float]:
    """The dataset's table as a Lookup (validation, test accuracy, and one sequence of
    each of the top 10 % architectures by validation), and its best test accuracy; read
    once per process, so the protocol can ask for it again."""
    bench = nbg.light_read(dataset)
    values = {str(k): (v["valid_perf"], v["perf"]) for k, v in bench.items()}
    g = NasBenchGraphGrammar()
    first: dict[str, tuple[str, ...]] = {}
    for link in LINKS:
        for ops in itertools.product(OPS, repeat=4):
            seq = (link, *ops)
            if gr.is_valid(g, seq):
                first.setdefault(g.key(seq), seq)
    ranked = sorted((k for k in first if k in values), key=lambda k: -values[k][0])
    top = tuple((first[k], values[k][0]) for k in ranked[: len(ranked) // 10])
    return Lookup(g, values, top, min_len=5), max(v["perf"] for v in bench.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    ap.add_argument("--strategies", nargs="+", default=["autosnap", "random", "evolution"],
                    help=f"strategies and autosnap variants ({', '.join(VARIANTS)})")  # fmt: skip
    ap.add_argument("--cores", type=int, default=2, help="searches run side by side")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seeds first-seed .. first-seed + seeds - 1 (20: the held-out seeds "
                         "that confirm a variant chosen on 0-19, in their own --out)")  # fmt: skip
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--k", type=int, default=10, help="queries per round")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--from-curves", action="store_true",
                    help="no searches: apply the protocol to the committed curves")  # fmt: skip
    ap.add_argument("--add", action="store_true",
                    help="keep the other curves of an earlier run in --out")  # fmt: skip
    ap.add_argument("--value-model", help=VALUE_MODEL_HELP)
    args = ap.parse_args()
    out = Path(args.out)
    if args.from_curves:
        df = pd.read_csv(out / "nasbench_graph_curves.csv")
        protocol(df, pd.DataFrame(), out)
        return
    vm = demo_value_model(args.value_model)
    curves, predictor = [], []
    for dataset in args.datasets:
        table, top = lookup(dataset)
        start = time.perf_counter()
        work = HERE / "work" / "nasbench_graph" / dataset
        c, p = run_all(table, args.strategies, args.seeds, args.first_seed, args.rounds, args.k,
                       vm, args.cores, work)  # fmt: skip
        curves.append(c.assign(dataset=dataset, regret=top - c["test_of_best_valid"]))
        predictor.append(p.assign(dataset=dataset))
        print(f"{dataset}: {len(args.strategies)} x {args.seeds} searches in "
              f"{time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    df = pd.concat(curves, ignore_index=True)
    df = df[["dataset", *[c for c in df.columns if c != "dataset"]]]
    pred = pd.concat(predictor, ignore_index=True)
    if not pred.empty:
        pred = (pred.groupby(["dataset", "strategy", "round"])[["tau_next", "tau_top10"]]
                .mean().reset_index())  # fmt: skip
    if args.add:
        df = merge_earlier(df, out / "nasbench_graph_curves.csv", ["dataset", "strategy"])
        pred = merge_earlier(pred, out / "nasbench_graph_predictor.csv", ["dataset", "strategy"])
    # full precision: a later --add pairs these values with fresh ones exactly
    df.to_csv(out / "nasbench_graph_curves.csv", index=False)
    last = df[df["queries"] == df["queries"].max()]
    final = (
        last.groupby(["dataset", "strategy"])
        .agg(queries=("queries", "first"), seeds=("seed", "nunique"),
             test_mean=("test_of_best_valid", "mean"), test_std=("test_of_best_valid", "std"),
             regret_mean=("regret", "mean"), regret_std=("regret", "std"))
        .reset_index()
    )  # fmt: skip
    final.to_csv(out / "nasbench_graph_final.csv", index=False, float_format="%.5f")
    protocol(df, pred, out)


def protocol(df: pd.DataFrame, pred: pd.DataFrame, out: Path) -> None:
    """The comparison protocol (autosnap.search.compare): validation regret at 50 and 100
    queries, paired Wilcoxon with wins / ties / losses, and the predictor's Kendall tau
    (`pred`: mean per dataset, strategy and round); the figure shows validation regret
    per query too (the curves' `regret` column is the test regret, secondary)."""
    at = compare.query_counts(df["queries"].max())
    best_valid = pd.Series({d: lookup(d)[0].best_valid for d in df["dataset"].unique()})
    reg = compare.regrets(df, best_valid, at)
    publish(compare.summary(reg), out, "nasbench_graph_regret")
    publish(compare.pairs(reg, first="autosnap"), out, "nasbench_graph_pairs")
    if not pred.empty:
        publish(pred, out, "nasbench_graph_predictor")
    valid = df.assign(regret=df["dataset"].map(best_valid) - df["best_valid"])
    plot_regret([(valid[valid["dataset"] == d], f"NAS-Bench-Graph {d}",
                  "validation regret (mean over seeds, band ± sd)")
                 for d in valid["dataset"].unique()], out / "nasbench_graph.png")  # fmt: skip


if __name__ == "__main__":
    main()
