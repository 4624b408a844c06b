"""The one protocol for comparing search strategies (docs/design.md, "Comparing
strategies").

A search's curve has, after each query, the best validation value found and the test
value of that architecture. Its endpoints after `q` queries:

- `valid_regret`: the table's best validation value minus the best found (exploration's
  primary figure);
- `test_regret`: the table's best test value minus the test value of the architecture
  with the best validation value found (a registered claim's primary endpoint: what a
  NAS paper reports).

Strategies are compared on paired seeds (one seed, one round 0): wins / ties / losses, the
two-sided Wilcoxon signed-rank p, the mean difference with a 95 % t-interval, and, for a
family of comparisons, Holm-adjusted p-values.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

#: Differences closer than this are a tie (table values are rounded numbers).
TIE = 1e-9
ENDPOINTS = ("valid_regret", "test_regret")


def query_counts(max_queries: int, budgets: Sequence[int] = (50, 100)) -> list[int]:
    """The budgets a run reached, or its last count when it stopped before the first
    (a short check run)."""
    return [q for q in budgets if q <= max_queries] or [int(max_queries)]


def endpoints(curves: pd.DataFrame, best: pd.DataFrame, at: Sequence[int]) -> pd.DataFrame:
    """Both regrets per (table, strategy, seed) after each query count in `at`. `curves`:
    table, strategy, seed, queries, best_valid, test_of_best_valid; `best`: per table
    (its index) the columns best_valid and best_test."""
    rows = curves[curves["queries"].isin(at)].copy()
    top = best.loc[rows["table"]]
    rows["valid_regret"] = top["best_valid"].to_numpy() - rows["best_valid"].to_numpy()
    rows["test_regret"] = top["best_test"].to_numpy() - rows["test_of_best_valid"].to_numpy()
    return rows[["table", "strategy", "seed", "queries", *ENDPOINTS]].reset_index(drop=True)


def percentile(found: pd.Series, values: np.ndarray) -> pd.Series:
    """Percentile (0-100) of each found value among all table values."""
    values = np.sort(np.asarray(values))
    return pd.Series(100 * np.searchsorted(values, found.to_numpy(), side="right") / len(values),
                     index=found.index)  # fmt: skip


def summary(ends: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd of each endpoint, and the seeds, per table, strategy and query count."""
    agg = {f"{e}_{s}": (e, s) for e in ENDPOINTS for s in ("mean", "std")}
    return (ends.groupby(["table", "strategy", "queries"])
            .agg(seeds=("seed", "count"), **agg).reset_index())  # fmt: skip


def paired(ends: pd.DataFrame, a: str, b: str, endpoint: str) -> dict:
    """Strategy `a` against `b` on the seeds both ran (lower regret wins): wins, ties and
    losses of `a`, the Wilcoxon p (1 when all tie), and the mean difference a - b with a
    95 % t-interval (negative: `a` better)."""
    from scipy.stats import t, wilcoxon

    wide = ends[ends["strategy"].isin([a, b])].pivot(index="seed", columns="strategy",
                                                     values=endpoint).dropna()  # fmt: skip
    d = (wide[a] - wide[b]) if len(wide.columns) == 2 else pd.Series(dtype=float)
    ties = d.abs() <= TIE
    n = len(d)
    p = 1.0 if ties.all() else float(wilcoxon(d[~ties]).pvalue)
    half = float(t.ppf(0.975, n - 1) * d.std() / np.sqrt(n)) if n > 1 else float("nan")
    mean = float(d.mean()) if n else float("nan")
    return {"a": a, "b": b, "endpoint": endpoint, "seeds": n, "wins": int((d < -TIE).sum()),
            "ties": int(ties.sum()), "losses": int((d > TIE).sum()), "p": p,
            "mean_diff": mean, "ci_low": mean - half, "ci_high": mean + half}  # fmt: skip


PAIR_COLUMNS = ["table", "queries", "a", "b", "endpoint", "seeds", "wins", "ties", "losses", "p",
                "mean_diff", "ci_low", "ci_high"]  # fmt: skip


def pairs(ends: pd.DataFrame, first: str | None = None,
          against: Sequence[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """`paired` per table and query count, for both endpoints: `first` against every
    other strategy (`against`, or all), or every pair when `first` is None."""
    out = []
    for (table, queries), g in ends.groupby(["table", "queries"]):
        names = sorted(g["strategy"].unique())
        if first is None:
            matchups = list(combinations(names, 2))
        else:
            others = [s for s in (against or names) if s != first and s in names]
            matchups = [(first, s) for s in others] if first in names else []
        for a, b in matchups:
            for e in ENDPOINTS:
                out.append({"table": table, "queries": queries, **paired(g, a, b, e)})
    return pd.DataFrame(out, columns=PAIR_COLUMNS)


def holm(pairs_: pd.DataFrame, family: Sequence[str] = ("a", "b", "endpoint", "queries")
         ) -> pd.DataFrame:  # fmt: skip
    """`pairs_` with `p_holm`: Holm's step-down adjustment across the tables of each
    family (one comparison, endpoint and budget, over the tables)."""
    out = pairs_.copy()
    out["p_holm"] = np.nan
    for _, g in out.groupby(list(family)):
        order = g["p"].sort_values().index
        m = len(order)
        running = 0.0
        for i, idx in enumerate(order):
            running = max(running, min(1.0, (m - i) * out.at[idx, "p"]))
            out.at[idx, "p_holm"] = running
    return out


def verdicts(pairs_: pd.DataFrame, endpoint: str, queries: int, alpha: float) -> pd.DataFrame:
    """A registered comparison's reading, per row of `pairs_` at (endpoint, queries):
    `result` is 'better' or 'worse' (for `a`, by the sign of the mean difference) where
    Holm's p < alpha, else 'no difference'. Nothing else decides it."""
    rows = pairs_[(pairs_["endpoint"] == endpoint) & (pairs_["queries"] == queries)].copy()
    shown = rows["p_holm"] < alpha
    rows["result"] = np.where(~shown, "no difference",
                              np.where(rows["mean_diff"] < 0, "better", "worse"))  # fmt: skip
    return rows


def tally(rows: pd.DataFrame) -> pd.DataFrame:
    """Per comparison (a, b), the number of tables of each verdict (verdicts' rows)."""
    counts = rows.groupby(["a", "b"])["result"].value_counts().unstack(fill_value=0)
    for col in ("better", "worse", "no difference"):
        if col not in counts:
            counts[col] = 0
    return counts[["better", "worse", "no difference"]].reset_index()
