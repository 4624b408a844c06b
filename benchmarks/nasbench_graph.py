"""autosnap's value model and strategies on a public tabular NAS benchmark.

NAS-Bench-Graph (the `nas-bench-graph` wheel ships the results of all 26,206 graph
neural network architectures per dataset) is written as a token grammar of five tokens:
a macro link pattern (L0..L8) and four operations. Identity is the benchmark's own
canonical hash. Each strategy gets the same budget of queries (K per round, round 0
random) and is scored by the test accuracy of the architecture with the best validation
accuracy found so far, and its regret to the best test accuracy in the table.

    python benchmarks/nasbench_graph.py [--datasets cora citeseer] [--seeds 20]

Writes benchmarks/results/nasbench_graph_curves.csv, nasbench_graph_final.csv and
nasbench_graph.png.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import nas_bench_graph as nbg
import numpy as np
import pandas as pd
import torch

from autosnap.search.config import SearchConfig, ValueModelConfig
from autosnap.search.strategies import propose
from autosnap.search.value_model import train_value_model
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


def run(bench: dict, strategy: str, seed: int, rounds: int, k: int, vm: ValueModelConfig):
    """One search; yields (queries, best valid, test accuracy of the best valid)."""
    g = NasBenchGraphGrammar()
    cfg = SearchConfig(strategy=strategy, rounds=rounds, children=k, max_len=5, min_len=5,
                       seed=seed, top=k, population=20, tournament=5)  # fmt: skip
    rows: list[dict] = []
    model = None
    best_valid, best_test = -np.inf, np.nan
    for r in range(rounds):
        props = propose(pd.DataFrame(rows) if rows else None, cfg, r, model, k=k,
                        strategy="random" if r == 0 else strategy, grammar=g)  # fmt: skip
        for _, p in props.iterrows():
            entry = bench[int(p["snap_id"])]
            rows.append({"round": r, "slot": p["slot"], "snap": p["snap"],
                         "snap_id": p["snap_id"], "status": "ok",
                         "value": entry["valid_perf"]})  # fmt: skip
            if entry["valid_perf"] > best_valid:
                best_valid, best_test = entry["valid_perf"], entry["perf"]
            yield len(rows), best_valid, best_test
        if strategy == "autosnap" and r < rounds - 1:
            seqs = [s.split() for s in (row["snap"] for row in rows)]
            vals = [row["value"] for row in rows]
            known = {row["snap_id"] for row in rows}
            pool = gr.sample_unique(g, vm.random_pool, seed * 1000 + r, 5, 5, exclude=known)
            model = train_value_model(g, seqs, vals, vm, pool)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    ap.add_argument("--strategies", nargs="+", default=["autosnap", "random", "evolution"])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--k", type=int, default=10, help="queries per round")
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    vm = ValueModelConfig(hidden=64, steps=300, random_pool=200)
    curves = []
    for dataset in args.datasets:
        bench = nbg.light_read(dataset)
        top = max(v["perf"] for v in bench.values())
        for strategy in args.strategies:
            start = time.perf_counter()
            for seed in range(args.seeds):
                for q, bv, bt in run(bench, strategy, seed, args.rounds, args.k, vm):
                    curves.append({"dataset": dataset, "strategy": strategy, "seed": seed,
                                   "queries": q, "best_valid": bv, "test_of_best_valid": bt,
                                   "regret": top - bt})  # fmt: skip
            print(f"{dataset} {strategy}: {args.seeds} seeds in "
                  f"{time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(curves)
    df.to_csv(out / "nasbench_graph_curves.csv", index=False, float_format="%.5f")
    last = df[df["queries"] == df["queries"].max()]
    final = (
        last.groupby(["dataset", "strategy"])
        .agg(queries=("queries", "first"), seeds=("seed", "nunique"),
             test_mean=("test_of_best_valid", "mean"), test_std=("test_of_best_valid", "std"),
             regret_mean=("regret", "mean"), regret_std=("regret", "std"))
        .reset_index()
    )  # fmt: skip
    final.to_csv(out / "nasbench_graph_final.csv", index=False, float_format="%.5f")
    print(final.to_string(index=False))
    plot(df, out / "nasbench_graph.png")


def plot(df: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = df["dataset"].unique()
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        for strategy, g in df[df["dataset"] == dataset].groupby("strategy"):
            stats = g.groupby("queries")["regret"].agg(["mean", "std"])
            ax.plot(stats.index, stats["mean"], label=strategy)
            ax.fill_between(stats.index, stats["mean"] - stats["std"],
                            stats["mean"] + stats["std"], alpha=0.2)  # fmt: skip
        ax.set_title(f"NAS-Bench-Graph {dataset}")
        ax.set_xlabel("queries")
        ax.set_ylabel("test regret of the best-validation architecture")
        ax.set_yscale("log")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
