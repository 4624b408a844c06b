"""How well predicted values rank outcomes: the one rank statistic of the value model's
metrics, `autosnap status`, the report and the benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def kendall(pred: Sequence[float], actual: Sequence[float]) -> float:
    """Kendall tau of predictions against outcomes over the pairs where both are finite;
    NaN with fewer than 3."""
    from scipy.stats import kendalltau  # scipy costs `autosnap status` 0.4 s; only here

    p, a = np.asarray(pred, dtype=float), np.asarray(actual, dtype=float)
    ok = np.isfinite(p) & np.isfinite(a)
    return float(kendalltau(p[ok], a[ok]).statistic) if ok.sum() >= 3 else float("nan")
