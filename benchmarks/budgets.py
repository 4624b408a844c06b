"""One search in two settings: the protocol on two result folders' curves.

A strategy benchmark run with another `--value-model` (say the demo's, after the demo
changed its fit), or after a change to one of autosnap's components, into its own
`--out` gives curves of the same strategies on the same seeds; this pairs each
strategy that uses the model with itself across the two folders, by seed (and
dataset), with the protocol's paired Wilcoxon on validation regret at 50 and 100
queries (the demo's: at its last child). Strategies without a model (evolution, random)
must come out identical in both folders, which checks that the two runs are comparable
at all.

    python benchmarks/budgets.py results results/steps400 [--benchmark nasbench_graph]

Writes `{benchmark}_budget_pairs.csv` into the second folder (a: its setting, b: the first's).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from search_efficiency import PROTOCOL_NAMES
from summary import publish
from variants import VARIANTS

from autosnap.search import compare


def budget_pairs(base: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Each model strategy of both frames (curves: [dataset,] strategy, seed, queries,
    best_valid) against itself, `other` as a, `base` as b. Regret is taken to the best
    value either run found per dataset: a paired difference does not depend on that."""
    keys = ["dataset"] if "dataset" in other.columns else []
    runs = other[[*keys, "seed"]].drop_duplicates()
    base = base.merge(runs, on=[*keys, "seed"])  # the seeds (and datasets) both ran
    for name in sorted(set(base["strategy"]) & set(other["strategy"]) - set(VARIANTS)):
        a, b = (df[df["strategy"] == name].sort_values([*keys, "seed", "queries"])
                for df in (other, base))  # fmt: skip
        # to 5 decimals: older committed curves (citeseer's) were written rounded to them
        if len(a) != len(b) or not np.allclose(a["best_valid"], b["best_valid"], rtol=0,
                                               atol=1e-5):  # fmt: skip
            raise SystemExit(f"{name} differs between the folders: not the same searches")
    both = pd.concat([base.assign(budget="base"), other.assign(budget="other")])
    both = both[both["strategy"].isin(VARIANTS)]
    both = both[both.groupby([*keys, "strategy"])["budget"].transform("nunique") == 2]
    at = compare.query_counts(both["queries"].max())
    best = both.groupby(keys)["best_valid"].max() if keys else both["best_valid"].max()
    rows = []
    for name, g in both.groupby("strategy"):
        reg = compare.regrets(g.assign(strategy=g["budget"]), best, at)
        pairs = compare.pairs(reg, first="other").assign(strategy=name)
        rows.append(pairs)
    cols = ["strategy", *keys, "queries", "seeds", "wins", "ties", "losses", "p", "mean_diff"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", help="results folder of the first setting")
    ap.add_argument("other", help="results folder of the second setting (the table goes here)")
    ap.add_argument("--benchmark", default="nasbench_graph",
                    choices=["nasbench_graph", "snapbench", "search_efficiency"])  # fmt: skip
    args = ap.parse_args()
    base, other = (pd.read_csv(Path(d) / f"{args.benchmark}_curves.csv")
                   .rename(columns=PROTOCOL_NAMES)
                   for d in (args.base, args.other))  # fmt: skip
    table = budget_pairs(base, other)
    publish(table, args.other, f"{args.benchmark}_budget_pairs")


if __name__ == "__main__":
    main()
