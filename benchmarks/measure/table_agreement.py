"""How well a table's validation and test values agree among its best architectures:
which tables can separate search strategies on test regret at all.

A strategy is judged on the test value of the architecture it ranks best on validation.
Where validation and test disagree among the top architectures, that test value is
close to a coin toss among them, and no strategy can be shown better on test regret.
Per table: Kendall tau between validation and test values over all members, the top
10 % and the top 1 % by validation value, and the test value the best-by-validation
member has against the table's best test value.

    python -m benchmarks run benchmarks/experiments/table_agreement.yaml

Writes `table_agreement.csv`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from scipy.stats import kendalltau

from benchmarks import tables
from benchmarks.measure import publish

HERE = Path(__file__).resolve().parents[1]


def agreement(name: str) -> dict:
    ok = tables.load(name).ok
    row: dict = {"table": name, "members": len(ok)}
    for label, share in (("all", 1.0), ("top10", 0.10), ("top1", 0.01)):
        top = ok.nlargest(max(2, round(share * len(ok))), "value")
        row[f"tau_{label}"] = kendalltau(top["value"], top["test_value"]).statistic
        row[f"n_{label}"] = len(top)
    best = ok.loc[ok["value"].idxmax()]
    row["test_of_best_valid"] = best["test_value"]
    row["best_test"] = ok["test_value"].max()
    return row


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tables", nargs="+", required=True)
    p.add_argument("--out", default=str(HERE / "results"))
    args = p.parse_args(argv)
    publish(pd.DataFrame([agreement(t) for t in args.tables]), args.out, "table_agreement")


if __name__ == "__main__":
    main()
