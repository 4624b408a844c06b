"""Every seed autosnap derives, from numpy's SeedSequence, in this one module.

A config names a few seeds (`data.seed`, `search.seed`, `value_model.seed`,
`train.seed`); everything random takes its seed from one of them through a function
here, so two streams never share a seed by accident (as `seed * k + round` schemes can)
and a reader finds every derivation in one place. Each stream's entropy is its config
seeds plus a tag naming its use.
"""

from __future__ import annotations

import numpy as np

#: Tags that keep the streams of one config seed apart.
PROPOSE, PRETRAIN = 1, 2


def round_rng(search_seed: int, round_: int) -> np.random.Generator:
    """The generator of a round's proposals: every draw a strategy makes in that round
    (random SNAPs, tournaments, mutations, shuffles, Thompson draws, its own models'
    initialisations) comes from it, so a round's proposals are a function of the
    history, the config and this seed alone."""
    return np.random.default_rng(np.random.SeedSequence([search_seed, PROPOSE, round_]))


def fit_seed(search_seed: int, model_seed: int, round_: int) -> int:
    """The seed of the value model fitted after `round_`: from the search's seed, the
    value model's and the round, so paired searches of one seed fit alike and every
    round draws its own batches and pool."""
    return int(np.random.SeedSequence([model_seed, search_seed, round_]).generate_state(1)[0])


def pretrain_seed(model_seed: int) -> int:
    """The seed of the unlabelled pool the auto-encoder is pretrained on."""
    return int(np.random.SeedSequence([model_seed, PRETRAIN]).generate_state(1)[0])


def draw_seed(rng: np.random.Generator) -> int:
    """A seed drawn from `rng` for an API that takes an integer (random.Random,
    torch.manual_seed, grammar.sample_unique)."""
    return int(rng.integers(2**31))


def data_streams(data_seed: int, splits: int) -> tuple[np.random.SeedSequence,
                                                       list[np.random.SeedSequence]]:  # fmt: skip
    """Independent streams from `data.seed`: the background bank, then one per split."""
    bank, *per_split = np.random.SeedSequence(data_seed).spawn(1 + splits)
    return bank, per_split
