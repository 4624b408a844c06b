"""Random search: K uniform valid SNAPs a round, none trained before.

The baseline every NAS comparison needs (Li and Talwalkar, 2019), and what round 0 of
every strategy is, so the strategies of one seed share their first round."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autosnap.search.proposals import Proposals
from autosnap.search.strategies import Strategy, register


@register
class Random(Strategy):
    name = "random"

    def propose(self, history: pd.DataFrame | None, k: int, rng: np.random.Generator
                ) -> Proposals:  # fmt: skip
        props = self.proposals(history, k)
        props.add_random(k, rng, self.lengths)
        return props
