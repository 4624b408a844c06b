"""A BANANAS-style predictor search (White, Neiswanger and Savani, AAAI 2021): an
ensemble of small MLPs (autosnap.search.predictors.ensemble) predicts a child's value
from its SNAP; each round mutates the best children into a pool of candidates and takes
the K with the best independent Thompson draws.

- Candidates: `candidates` one-symbol mutations of the `top` best children (BANANAS'
  acquisition optimiser), new ones only.
- Acquisition: independent Thompson sampling, one draw from N(mean, sd) of the ensemble
  per candidate, the K best draws taken.
- Fewer than 2 successful children to fit on: the round is random SNAPs.

The ensemble is fitted in the propose step: a second or two on a CPU, no file between
jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from autosnap.config import ConfigError
from autosnap.search.history import evaluated, ranked
from autosnap.search.predictors.ensemble import fit_ensemble
from autosnap.search.proposals import Proposals
from autosnap.search.strategies import Strategy, register


@dataclass(frozen=True)
class BananasConfig:
    """`search.bananas:`"""

    #: The best children the candidates are mutations of.
    top: int = 10
    #: Mutations scored by the ensemble per round (at least search.children).
    candidates: int = 100
    #: MLPs in the ensemble (its spread drives the Thompson draws).
    ensemble: int = 5

    def __post_init__(self) -> None:
        if self.top < 1 or self.ensemble < 2:
            raise ValueError(f"needs top >= 1 and ensemble >= 2, got top {self.top}, "
                             f"ensemble {self.ensemble}")  # fmt: skip


@register
class Bananas(Strategy):
    name = "bananas"
    Config = BananasConfig

    @classmethod
    def check(cls, settings: BananasConfig, search, value_model) -> None:
        if settings.candidates < search.children:
            raise ConfigError("search.bananas.candidates: the pool of mutations needs at "
                              f"least search.children ({search.children}) candidates, got "
                              f"{settings.candidates}")  # fmt: skip

    def propose(self, history: pd.DataFrame | None, k: int, rng: np.random.Generator
                ) -> Proposals:  # fmt: skip
        props = self.proposals(history, k)
        ok = evaluated(history)
        if len(ok) < 2:
            return props
        pool = Proposals(self.grammar, set(props.known))
        pool.add_mutations(ranked(history)["snap"].head(self.settings.top).tolist(),
                           self.settings.candidates, rng)  # fmt: skip
        if not len(pool):
            return props
        model = fit_ensemble(self.grammar, [s.split() for s in ok["snap"]], ok["value"].tolist(),
                             self.settings.ensemble, rng)  # fmt: skip
        mean, sd = model.predict_spread([r["snap"].split() for r in pool.rows])
        draw = rng.normal(mean, sd)
        for i in np.argsort(-draw, kind="stable")[:k]:
            row = pool.rows[i]
            props.add(row["snap"].split(), "bananas", parent=row["parent"],
                      predicted_value=float(mean[i]))  # fmt: skip
        return props
