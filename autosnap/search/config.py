"""The `search:` and `value_model:` sections of a config.

Torch-free (as the whole search layer is at import time), so the workflow builds its DAG
from them without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from autosnap.config import ConfigError, from_dict
from autosnap.space.snap import DEFAULT_MAX_LEN, SnapGrammar

STRATEGIES = ("autosnap", "random", "evolution", "local", "bananas")
#: What ranks autosnap's scored pool: the value model, or (a control) random numbers.
SCORES = ("model", "random")
#: The generators of autosnap's scored pool (autosnap.search.candidates), in fill order.
POOL_SOURCES = ("ascent", "mutation", "evolution", "random")
#: What predicts a SNAP's value: AutoSNAP's auto-encoder, or (a control) a linear model
#: of the symbol counts (autosnap.search.predictors.bag_model).
MODEL_KINDS = ("autoencoder", "bag")
#: How credit per source shares the picks (autosnap.search.candidates.source_quota).
CREDIT_RULES = ("matching", "thompson")
#: The keys of this project's additions to AutoSNAP's engine (issue #15) per section:
#: with all of them at their defaults a search is the paper's (docs/search.md; the demo
#: config turns the scored pool with credit on).
ADDITIONS = {
    "search": (
        "candidates",
        "per_parent",
        "beta",
        "trust_radius",
        "sources",
        "source_credit",
        "credit_rule",
    ),
    "value_model": ("heads", "pretrain_steps", "pretrain_pool"),
}


@dataclass(frozen=True)
class SearchConfig:
    """The `search:` section of a config."""

    strategy: str = "autosnap"
    rounds: int = 3
    #: K: children trained per round.
    children: int = 8
    max_len: int = DEFAULT_MAX_LEN
    min_len: int = 1
    seed: int = 0
    #: autosnap: how many of the best SNAPs start an ascent.
    top: int = 8
    #: autosnap: first latent step and its growth per try; tries per seed.
    step: float = 0.25
    growth: float = 1.5
    max_steps: int = 12
    #: evolution: population (most recent children) and tournament size.
    population: int = 32
    tournament: int = 8
    #: autosnap: candidates scored by the value model per round, the best K taken
    #: (0: AutoSNAP's first K new ascent decodes, then unscored mutations and random).
    candidates: int = 0
    #: autosnap with candidates: at most this many proposals from one parent.
    per_parent: int = 2
    #: autosnap with candidates: score = mean + beta * sd over the value heads (UCB).
    beta: float = 0.0
    #: autosnap: latent step in units of the children's median nearest-neighbour code
    #: distance, walked iteratively and adapted by success (0: `step * growth**j`).
    trust_radius: float = 0.0
    #: autosnap with candidates: the generators that fill the pool (POOL_SOURCES).
    sources: tuple[str, ...] = POOL_SOURCES
    #: autosnap with candidates: share the K picks among the sources by how their
    #: children did in earlier rounds, the model picking within each (False: the best K).
    source_credit: bool = False
    #: autosnap with source_credit: how the shares follow the credit, "matching"
    #: (in proportion to each source's rate) or "thompson" (a Beta draw per pick).
    credit_rule: str = "matching"
    #: autosnap with candidates: what ranks the pool, the value model's scores or, as a
    #: control that isolates the model, random numbers (the same pool and credit).
    scores: str = "model"
    #: bananas: MLPs in the ensemble (its spread drives the Thompson draws).
    ensemble: int = 5

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got '{self.strategy}'")
        unknown = sorted(set(self.sources) - set(POOL_SOURCES))
        if unknown or not self.sources:
            raise ValueError(f"sources must be a non-empty list of {POOL_SOURCES}, got "
                             f"{list(self.sources)}")  # fmt: skip
        if self.credit_rule not in CREDIT_RULES:
            raise ValueError(f"credit_rule must be one of {CREDIT_RULES}, got "
                             f"'{self.credit_rule}'")  # fmt: skip
        if self.scores not in SCORES:
            raise ValueError(f"scores must be one of {SCORES}, got '{self.scores}'")
        if self.strategy == "bananas" and (self.candidates < self.children or self.ensemble < 2):
            raise ValueError("strategy bananas needs candidates >= children (its pool of "
                             "mutations) and ensemble >= 2, got candidates "
                             f"{self.candidates}, ensemble {self.ensemble}")  # fmt: skip
        if self.children < 1 or self.rounds < 1:
            raise ValueError("children and rounds must be at least 1")
        if not 1 <= self.min_len <= self.max_len:
            raise ValueError(f"need 1 <= min_len <= max_len, got {self.min_len}, {self.max_len}")

    @property
    def grammar(self) -> SnapGrammar:
        return SnapGrammar(max_len=self.max_len)

    def round_seed(self, round_: int) -> int:
        """One seed per round, derived from the config's seed."""
        return self.seed * 100_003 + round_


@dataclass(frozen=True)
class ValueModelConfig:
    """The `value_model:` section of a config."""

    embed: int = 32
    hidden: int = 128
    latent: int = 16
    steps: int = 1200
    batch_size: int = 64
    lr: float = 5e-3
    w_recon: float = 1.0
    w_value: float = 1.0
    w_rank: float = 0.5
    w_latent: float = 0.01
    w_robust: float = 0.5
    noise: float = 0.1
    #: Unevaluated random sequences added to the reconstruction losses.
    random_pool: int = 500
    #: Share of evaluated sequences held out to measure Kendall tau and Spearman rho.
    holdout: float = 0.2
    seed: int = 0
    #: Linear value heads on the one latent code, each fitted to its own bootstrap
    #: resample of the children; their spread is the model's uncertainty and their mean
    #: is again linear in z (1: AutoSNAP's single head).
    heads: int = 1
    #: Reconstruction pretraining on `pretrain_pool` random unlabelled sequences, done
    #: once per grammar; every round's fit starts from it (0: each fit from scratch).
    pretrain_steps: int = 0
    pretrain_pool: int = 20000
    #: "autoencoder" (AutoSNAP's), or "bag": a ridge regression on symbol counts, a
    #: control with no latent space (so no ascent: the scored pool without it).
    kind: str = "autoencoder"

    def __post_init__(self) -> None:
        if self.heads < 1:
            raise ValueError(f"heads must be at least 1, got {self.heads}")
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"kind must be one of {MODEL_KINDS}, got '{self.kind}'")


def check_pair(search: SearchConfig, value_model: ValueModelConfig) -> None:
    """What one section asks of the other: a bag model has no latent space, so an
    autosnap search with it scores a pool without ascent decodes or trust region."""
    if value_model.kind != "bag" or search.strategy != "autosnap":
        return
    if (search.candidates <= 0 or "ascent" in search.sources or search.trust_radius > 0
            or value_model.pretrain_steps > 0):  # fmt: skip
        raise ConfigError("value_model.kind: bag has no latent space: it needs "
                          "search.candidates > 0, search.sources without ascent, "
                          "search.trust_radius 0 and value_model.pretrain_steps 0, got "
                          f"candidates {search.candidates}, sources {list(search.sources)}, "
                          f"trust_radius {search.trust_radius}, pretrain_steps "
                          f"{value_model.pretrain_steps}")  # fmt: skip


def search_config(section: dict | None) -> SearchConfig:
    """SearchConfig of a `search:` section, bad keys named as `search.<key>`."""
    return from_dict(SearchConfig, section, "search")


def value_model_config(section: dict | None) -> ValueModelConfig:
    """ValueModelConfig of a `value_model:` section, bad keys named as `value_model.<key>`."""
    return from_dict(ValueModelConfig, section, "value_model")
