"""The one protocol for comparing search strategies (DESIGN.md "Comparing strategies").

Primary figure: validation regret (the best validation value in the table, or the best
known, minus the best found) after 50 and 100 queries, mean ± sd over seeds, with the
percentile of the architecture found. Pairs of strategies: a paired Wilcoxon signed-rank
test over seeds (same seed = same round 0), with wins / ties / losses. Test-side numbers
are secondary.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

#: Regrets closer than this are a tie (values are rounded table entries).
TIE = 1e-9


def kendall(pred: Sequence[float], actual: Sequence[float]) -> float:
    """Kendall tau of predictions against outcomes over the pairs where both are finite;
    NaN with fewer than 3 (the one tau of the search's predictor figures and tables)."""
    from scipy.stats import kendalltau  # scipy costs `autosnap status` 0.4 s; only here

    p, a = np.asarray(pred, dtype=float), np.asarray(actual, dtype=float)
    ok = np.isfinite(p) & np.isfinite(a)
    return float(kendalltau(p[ok], a[ok]).statistic) if ok.sum() >= 3 else float("nan")


def query_counts(max_queries: int) -> list[int]:
    """The query counts the protocol reports: 50 and 100, those a run reached, or its last
    count when it stopped before 50 (a short check run)."""
    return [q for q in (50, 100) if q <= max_queries] or [int(max_queries)]


def regrets(curves: pd.DataFrame, best: float | pd.Series, at: Sequence[int]) -> pd.DataFrame:
    """Validation regret per (strategy, seed) after each number of queries in `at`.

    `curves` has columns strategy, seed, queries, best_valid (and optionally a grouping
    column `dataset`); `best` is the table's best validation value (per dataset: a Series
    indexed by dataset)."""
    keys = ["dataset"] if "dataset" in curves.columns else []
    rows = curves[curves["queries"].isin(at)].copy()
    top = rows["dataset"].map(best) if keys else best
    rows["regret"] = top - rows["best_valid"]
    return rows[[*keys, "strategy", "seed", "queries", "regret"]]


def percentile(found: pd.Series, values: np.ndarray) -> pd.Series:
    """Percentile (0-100) of each found value among all table values."""
    values = np.sort(np.asarray(values))
    return pd.Series(100 * np.searchsorted(values, found.to_numpy(), side="right") / len(values),
                     index=found.index)  # fmt: skip


def summary(reg: pd.DataFrame) -> pd.DataFrame:
    """Mean, sd and seeds of the regret per strategy and query count."""
    keys = [c for c in ("dataset", "strategy", "queries") if c in reg.columns]
    return (reg.groupby(keys)["regret"].agg(regret_mean="mean", regret_sd="std", seeds="count")
            .reset_index())  # fmt: skip


def paired(reg: pd.DataFrame, a: str, b: str) -> dict:
    """Strategy `a` against `b` on the seeds both ran (lower regret wins): wins, ties,
    losses of `a`, and the two-sided Wilcoxon signed-rank p-value (1 when all tie)."""
    from scipy.stats import wilcoxon

    wide = reg[reg["strategy"].isin([a, b])].pivot(index="seed", columns="strategy",
                                                   values="regret").dropna()  # fmt: skip
    d = wide[a] - wide[b]
    ties = d.abs() <= TIE
    wins, losses = int((d < -TIE).sum()), int((d > TIE).sum())
    p = 1.0 if ties.all() else float(wilcoxon(d[~ties]).pvalue)
    return {"a": a, "b": b, "seeds": len(d), "wins": wins, "ties": int(ties.sum()),
            "losses": losses, "p": p, "mean_diff": float(d.mean())}  # fmt: skip


def pairs(reg: pd.DataFrame, first: str | None = None) -> pd.DataFrame:
    """`paired` for every pair of strategies (those with `first` against the others first),
    per query count (and dataset)."""
    keys = [c for c in ("dataset", "queries") if c in reg.columns]
    out = []
    for key, g in reg.groupby(keys):
        names = sorted(g["strategy"].unique(), key=lambda s: (s != first, s))
        for a, b in combinations(names, 2):
            out.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True)),
                        **paired(g, a, b)})  # fmt: skip
    # the columns also when there is no pair (one strategy): the CSV keeps its header
    cols = [*keys, "a", "b", "seeds", "wins", "ties", "losses", "p", "mean_diff"]
    return pd.DataFrame(out, columns=cols)
