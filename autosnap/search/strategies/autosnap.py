"""AutoSNAP's search: latent ascent on the value model (Kügler et al., 2021), with this
project's scored candidate pool as an option.

Engine (`candidates: 0`, the paper's): encode the `top` best SNAPs, step along the
value direction w of the linear head with a growing step (`step * growth**j`, j up to
`max_steps`) until the decode is new, valid and predicted better than its seed. If fewer
than K come out, the rest are mutations of the best, then random SNAPs; `origin` says
which rule made each row.

Scored pool (`candidates > 0`): ascent decodes, mutations, tournament children and
random SNAPs are scored by the value model and the best K taken, optionally shared
among the sources by their credit (autosnap.search.candidates).

Without a value model fitted on at least 2 children the round is random SNAPs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from autosnap.config import ConfigError
from autosnap.progress import log
from autosnap.search.candidates import scored_proposals
from autosnap.search.history import evaluated, ranked
from autosnap.search.proposals import Proposals
from autosnap.search.strategies import Strategy, register
from autosnap.space import grammar as gr

if TYPE_CHECKING:
    from autosnap.search.config import SearchConfig, ValueModelConfig
    from autosnap.search.predictors.value_model import ValueModel

#: The generators of the scored pool (autosnap.search.candidates), in fill order.
POOL_SOURCES = ("ascent", "mutation", "evolution", "random")
#: What ranks the scored pool: the value model, or (a control) random numbers.
SCORES = ("model", "random")
#: How credit per source shares the picks (autosnap.search.candidates.source_quota).
CREDIT_RULES = ("matching", "thompson")
#: The keys of this project's additions to AutoSNAP's engine: with all of them at their
#: defaults a search is the paper's (docs/search.md; the demo config turns the scored
#: pool with credit on).
ADDITIONS = ("candidates", "per_parent", "beta", "trust_radius", "sources", "source_credit",
             "credit_rule", "scores", "population", "tournament")  # fmt: skip


@dataclass(frozen=True)
class AutosnapConfig:
    """`search.autosnap:`"""

    #: How many of the best SNAPs start an ascent (and parent the pool's mutations).
    top: int = 8
    #: First latent step and its growth per try; tries per seed.
    step: float = 0.25
    growth: float = 1.5
    max_steps: int = 12
    #: Candidates scored by the value model per round, the best K taken (0: AutoSNAP's
    #: first K new ascent decodes, then unscored mutations and random SNAPs).
    candidates: int = 0
    #: With candidates: at most this many proposals from one parent.
    per_parent: int = 2
    #: With candidates: score = mean + beta * sd over the value heads (UCB).
    beta: float = 0.0
    #: Latent step in units of the children's median nearest-neighbour code distance,
    #: walked iteratively and adapted by success (0: `step * growth**j`).
    trust_radius: float = 0.0
    #: With candidates: the generators that fill the pool (POOL_SOURCES).
    sources: tuple[str, ...] = POOL_SOURCES
    #: With candidates: share the K picks among the sources by how their children did
    #: in earlier rounds, the model picking within each (False: the best K).
    source_credit: bool = False
    #: With source_credit: "matching" (in proportion to each source's rate) or
    #: "thompson" (a Beta draw per pick).
    credit_rule: str = "matching"
    #: With candidates: what ranks the pool, the value model's scores or, as a control
    #: that isolates the model, random numbers (the same pool and credit).
    scores: str = "model"
    #: The pool's `evolution` source: population (most recent children) and tournament.
    population: int = 32
    tournament: int = 8

    def __post_init__(self) -> None:
        unknown = sorted(set(self.sources) - set(POOL_SOURCES))
        if unknown or not self.sources:
            raise ValueError(f"sources must be a non-empty list of {POOL_SOURCES}, got "
                             f"{list(self.sources)}")  # fmt: skip
        if self.credit_rule not in CREDIT_RULES:
            raise ValueError(f"credit_rule must be one of {CREDIT_RULES}, got "
                             f"'{self.credit_rule}'")  # fmt: skip
        if self.scores not in SCORES:
            raise ValueError(f"scores must be one of {SCORES}, got '{self.scores}'")


@register
class Autosnap(Strategy):
    name = "autosnap"
    Config = AutosnapConfig
    needs_model = True

    @classmethod
    def check(cls, settings: AutosnapConfig, search: SearchConfig,
              value_model: ValueModelConfig) -> None:  # fmt: skip
        """A bag model has no latent space: it scores a pool without ascent decodes or
        trust region."""
        if value_model.kind != "bag":
            return
        if (settings.candidates <= 0 or "ascent" in settings.sources
                or settings.trust_radius > 0 or value_model.pretrain_steps > 0):  # fmt: skip
            raise ConfigError(
                "value_model.kind: bag has no latent space: it needs search.autosnap."
                "candidates > 0, search.autosnap.sources without ascent, search.autosnap."
                "trust_radius 0 and value_model.pretrain_steps 0, got candidates "
                f"{settings.candidates}, sources {list(settings.sources)}, trust_radius "
                f"{settings.trust_radius}, pretrain_steps {value_model.pretrain_steps}"
            )

    def propose(self, history: pd.DataFrame | None, k: int, rng: np.random.Generator
                ) -> Proposals:  # fmt: skip
        props = self.proposals(history, k)
        model = self.model
        if model is None or model.n_evaluated < 2 or len(evaluated(history)) < 2:
            log.warning("autosnap: no value model trained on at least 2 children; round-0 "
                        "logic (random SNAPs)")  # fmt: skip
            return props
        if self.settings.candidates > 0:
            scored_proposals(history, self.settings, props, model, self.lengths, rng)
            return props
        best = ranked(history)["snap"].head(self.settings.top).tolist()
        engine_ascent(props, model, best, self.settings)
        props.add_mutations(best, k, rng)
        return props


def engine_ascent(props: Proposals, model: ValueModel, best: list[str],
                  cfg: AutosnapConfig) -> None:  # fmt: skip
    """AutoSNAP's ascent: from each seed, growing steps along the value direction; the
    first new valid decodes predicted better than their seed, until `props` is full."""
    import torch

    z0 = model.encode([s.split() for s in best])
    floor = model.predict_latent(z0)  # a proposal must be predicted better than its seed
    direction = model.direction()
    step_index = [0] * len(best)
    decodes = valid = 0
    distinct: set[str] = set()
    while not props.full and any(j <= cfg.max_steps for j in step_index):
        active = [i for i, j in enumerate(step_index) if j <= cfg.max_steps]
        steps = torch.tensor([cfg.step * cfg.growth ** step_index[i] for i in active])
        seqs = model.decode(z0[active] + steps[:, None] * direction)
        predicted = model.predict(seqs)
        for i, eta, seq, pred in zip(active, steps.tolist(), seqs, predicted, strict=True):
            decodes += 1
            step_index[i] += 1
            if not gr.is_valid(props.grammar, seq):
                continue
            valid += 1
            distinct.add(props.grammar.key(seq))
            if pred > floor[i]:
                props.add(seq, "ascent", parent=best[i], step=eta, predicted_value=float(pred))
    n_ascent = len(props)
    log.info(
        "autosnap ascent: %d decodes, validity %.2f, uniqueness %.2f, novelty %.2f; "
        "%d of %d proposals from ascent",
        decodes, valid / max(decodes, 1), len(distinct) / max(valid, 1),
        n_ascent / max(len(distinct), 1), n_ascent, props.k,
    )  # fmt: skip
