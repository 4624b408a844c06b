"""A bag-of-symbols linear predictor (`value_model.kind: bag`): a control that puts
the simplest model that can rank SNAPs in place of the auto-encoder.

On SNAP-Bench a linear fit of the value on symbol counts alone explains most of the
variance, and a linear latent head can exploit exactly that. A search with this model
in the scored pool (the same generators, credit and selection, no latent space and so
no ascent decodes) says how much of autosnap's result the auto-encoder adds beyond it.

Ridge regression of the standardised value on each symbol's count and the length,
closed form; no spread (one model), so `search.autosnap.beta` has nothing to add.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autosnap.errors import InputError
from autosnap.search.rank import kendall
from autosnap.space import grammar as gr
from autosnap.tables import atomic_write

#: The ridge penalty on the standardised features.
ALPHA = 1.0


@dataclass
class BagModel:
    """A fitted ridge regression on symbol counts, in the history's value units."""

    grammar: gr.TokenGrammar
    weights: np.ndarray
    x_mean: np.ndarray
    x_std: np.ndarray
    value_mean: float
    n_evaluated: int

    @staticmethod
    def features(grammar: gr.TokenGrammar, seqs: Sequence[Sequence[str]]) -> np.ndarray:
        index = {s: i for i, s in enumerate(grammar.symbols)}
        x = np.zeros((len(seqs), len(grammar.symbols) + 1))
        for row, seq in enumerate(seqs):
            for sym in seq:
                x[row, index[sym]] += 1
            x[row, -1] = len(seq)
        return x

    @classmethod
    def fit(cls, grammar: gr.TokenGrammar, seqs: Sequence[Sequence[str]],
            values: Sequence[float]) -> BagModel:  # fmt: skip
        x = cls.features(grammar, seqs)
        y = np.asarray(values, dtype=float)
        x_mean, x_std = x.mean(axis=0), x.std(axis=0)
        x_std[x_std == 0] = 1.0
        xs = (x - x_mean) / x_std
        w = np.linalg.solve(xs.T @ xs + ALPHA * np.eye(x.shape[1]), xs.T @ (y - y.mean()))
        return cls(grammar, w, x_mean, x_std, float(y.mean()), len(seqs))

    def predict(self, seqs: Sequence[Sequence[str]]) -> np.ndarray:
        return (self.features(self.grammar, seqs) - self.x_mean) / self.x_std @ self.weights + (
            self.value_mean
        )

    def predict_spread(self, seqs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        mean = self.predict(seqs)
        return mean, np.zeros_like(mean)

    def payload(self) -> dict:
        return {"kind": "bag", "symbols": list(self.grammar.symbols),
                "max_len": self.grammar.max_len, "weights": self.weights.tolist(),
                "x_mean": self.x_mean.tolist(), "x_std": self.x_std.tolist(),
                "value_mean": self.value_mean, "n_evaluated": self.n_evaluated}  # fmt: skip

    def save(self, path: str | Path) -> Path:
        import torch

        return atomic_write(path, lambda tmp: torch.save(self.payload(), tmp))

    @classmethod
    def from_payload(cls, ckpt: dict, grammar: gr.TokenGrammar, path: Path) -> BagModel:
        if ckpt["symbols"] != list(grammar.symbols) or ckpt["max_len"] != grammar.max_len:
            raise InputError(f"{path}: made for symbols {ckpt['symbols']} with max_len "
                             f"{ckpt['max_len']}, not for this grammar")  # fmt: skip
        return cls(grammar, np.asarray(ckpt["weights"]), np.asarray(ckpt["x_mean"]),
                   np.asarray(ckpt["x_std"]), ckpt["value_mean"], ckpt["n_evaluated"])  # fmt: skip


def fit_bag(grammar: gr.TokenGrammar, seqs: Sequence[Sequence[str]], values: Sequence[float]
            ) -> tuple[BagModel, dict]:  # fmt: skip
    """The bag model and the metrics row a fit writes (what it cannot measure is NaN)."""
    model = BagModel.fit(grammar, seqs, values)
    tau = kendall(model.predict(seqs), values) if len(seqs) else np.nan
    return model, {"n_evaluated": len(seqs), "n_holdout": 0, "n_pool": 0,
                   "kendall_tau": np.nan, "spearman_rho": np.nan, "holdout_recon_acc": np.nan,
                   "recon_acc": np.nan, "train_kendall_tau": tau}  # fmt: skip
