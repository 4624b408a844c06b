"""Which trained network a run recommends, and why: what `results/export` holds.

The search ranks children on one short training each, so its order is noisy: a block
ranked first there can lose to the second once both are trained on the full budget. The
final stage therefore picks by the **final retrainings' validation error**, averaged over
their seeds, among all final candidates, the baselines included. The test split is
never looked at: it stays the report's measure of the model picked. Within the
candidate picked, the seed with the lowest validation error gives the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from autosnap.errors import InputError
from autosnap.models.baselines import BASELINES

#: The levers measured on the example own-data set (docs/own_data.md, one seed each),
#: said when a baseline is recommended: each turned a loss into a win there.
LEVERS = ("more images (the lowest errors)", "more patches per image (data.patches_per_image)",
          "longer child trainings (train.epochs)")  # fmt: skip


@dataclass(frozen=True)
class Recommendation:
    """The model a run recommends (columns `recommended`, `recommended_seed` of the
    final summary), with the runner-up it was picked over."""

    candidate: str
    snap: str
    seed: int
    val_err_mm: float
    val_err_sd: float
    runner_up: str | None
    runner_up_err_mm: float
    runner_up_sd: float

    @property
    def is_baseline(self) -> bool:
        return self.candidate in BASELINES

    @property
    def overlaps(self) -> bool:
        """The runner-up's mean ± sd over seeds overlaps the pick's: the order of the two
        is within the training noise."""
        if self.runner_up is None:
            return False
        return self.runner_up_err_mm - self.runner_up_sd <= self.val_err_mm + self.val_err_sd

    def checkpoint(self, results: str | Path) -> Path:
        return Path(results) / "final" / self.candidate / f"seed_{self.seed}.pt"

    def lines(self, results: str | Path = "results") -> list[str]:
        """Why it was picked, the runner-up when it is as good within the noise, and how
        to export another candidate: for the terminal, the status and the report."""
        name = "the i3PosNet-like network" if self.candidate == "i3posnet" else f"`{self.snap}`"
        out = [
            f"Recommended: {self.candidate} ({name}), seed {self.seed}: the lowest validation "
            f"landmark error of the final retrainings, {self.val_err_mm:.3f} ± "
            f"{self.val_err_sd:.3f} mm over their seeds (picked without the test split).",
        ]
        if self.overlaps:
            out.append(
                f"Runner-up {self.runner_up}: {self.runner_up_err_mm:.3f} ± "
                f"{self.runner_up_sd:.3f} mm, within the seed spread of the pick; "
                f"either is a fair choice."
            )
        if self.is_baseline:
            out.append(
                "The search did not beat this baseline on this data. Each of these turned "
                f"a loss into a win on the example set: {'; '.join(LEVERS)} "
                "(docs/own_data.md)."
            )
        out.append(f"Exported to {Path(results) / 'export'}; another candidate: autosnap "
                   f"export {results} --candidate NAME --out DIR")  # fmt: skip
        return out


def _sd(values: pd.Series) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def _ranked(stats: pd.DataFrame, snap: str, seed: int) -> Recommendation:
    """The Recommendation of `stats` (index candidate; `mean`, `sd` of the validation
    error; the pick first, then by mean), the pick's SNAP and seed given."""
    top = stats.iloc[0]
    second = stats.iloc[1] if len(stats) > 1 else None
    return Recommendation(
        candidate=str(stats.index[0]), snap=snap, seed=seed,
        val_err_mm=float(top["mean"]), val_err_sd=float(top["sd"]),
        runner_up=None if second is None else str(stats.index[1]),
        runner_up_err_mm=np.nan if second is None else float(second["mean"]),
        runner_up_sd=np.nan if second is None else float(second["sd"]),
    )  # fmt: skip


def recommend(runs: pd.DataFrame, source: str = "the final runs") -> Recommendation:
    """Pick from the final runs (one row per candidate and seed, with `val_landmark_err_mm`)
    the candidate of lowest mean validation error over its successful seeds."""
    trained = runs[runs["status"] == "ok"]
    if trained.empty:
        raise InputError(f"{source}: no final candidate trained successfully; nothing to "
                         "recommend (see each run's status and error)")  # fmt: skip
    val = trained.get("val_landmark_err_mm", pd.Series(np.nan, index=trained.index))
    ok = trained[np.isfinite(val.astype(float))]
    if ok.empty:
        raise InputError(f"{source}: the final runs have no validation error "
                         "(val_landmark_err_mm): they predate it; rerun them with "
                         "`snakemake --forcerun final`")  # fmt: skip
    stats = ok.groupby("candidate", sort=False)["val_landmark_err_mm"].agg(mean="mean", sd=_sd)
    stats = stats.sort_values("mean", kind="stable")
    mine = ok[ok["candidate"] == stats.index[0]]
    seed_row = mine.loc[mine["val_landmark_err_mm"].idxmin()]
    return _ranked(stats, str(seed_row["snap"]), int(seed_row["seed"]))


def from_summary(summary: pd.DataFrame, source: str = "summary") -> Recommendation:
    """The recommendation a final summary records (its `recommended` row)."""
    if "recommended" not in summary.columns or not summary["recommended"].any():
        raise InputError(f"{source}: no recommended candidate (no final run with a "
                         "validation error; rerun `snakemake --forcerun final`)")  # fmt: skip
    scored = summary[summary["val_landmark_err_mm_mean"].notna() | summary["recommended"]]
    stats = pd.DataFrame({
        "mean": scored["val_landmark_err_mm_mean"].to_numpy(),
        "sd": np.nan_to_num(scored["val_landmark_err_mm_std"].to_numpy(dtype=float)),
        "later": ~scored["recommended"].to_numpy(dtype=bool),
    }, index=scored["candidate"]).sort_values(["later", "mean"], kind="stable")  # fmt: skip
    pick = scored[scored["recommended"]].iloc[0]
    return _ranked(stats, str(pick["snap"]), int(pick["recommended_seed"]))
