"""Regularised (aging) evolution in batch form (Real et al., 2019): the population is the
`population` most recent successful children; each proposal mutates the best of a
random tournament of `tournament` of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from autosnap.progress import log
from autosnap.search.history import evaluated
from autosnap.search.proposals import Proposals
from autosnap.search.strategies import Strategy, register


@dataclass(frozen=True)
class EvolutionConfig:
    """`search.evolution:`"""

    #: The most recent successful children that make the population.
    population: int = 32
    #: Members drawn (with replacement) for one tournament; its best is the parent.
    tournament: int = 8

    def __post_init__(self) -> None:
        if self.population < 1 or self.tournament < 1:
            raise ValueError("population and tournament must be at least 1")


@register
class Evolution(Strategy):
    name = "evolution"
    Config = EvolutionConfig

    def propose(self, history: pd.DataFrame | None, k: int, rng: np.random.Generator
                ) -> Proposals:  # fmt: skip
        props = self.proposals(history, k)
        if evaluated(history).empty:
            log.warning("evolution: no successful child yet, proposing random SNAPs")
        s = self.settings
        props.add_tournament_children(history, s.population, s.tournament, k, rng)
        return props
