"""The `search:` and `value_model:` sections of a config.

Torch-free (as the whole search layer is at import time), so the workflow builds its DAG
from them without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from autosnap.config import MOVED, ConfigError, from_dict
from autosnap.search import strategies
from autosnap.search.fidelity import FidelityConfig
from autosnap.space.snap import DEFAULT_MAX_LEN, SnapGrammar

#: What predicts a SNAP's value: AutoSNAP's auto-encoder, or (a control) a linear model
#: of the symbol counts (autosnap.search.predictors.bag_model).
MODEL_KINDS = ("autoencoder", "bag")
#: The keys of this project's additions to AutoSNAP's value model (issue #15): with all
#: of them at their defaults the model is the paper's (docs/search.md).
MODEL_ADDITIONS = ("heads", "pretrain_steps", "pretrain_pool")


@dataclass(frozen=True)
class SearchConfig:
    """The `search:` section: the keys every strategy shares, and the sections of the
    strategies (`search.<name>:`, each parsed by its registered Config; one not given
    takes its defaults)."""

    strategy: str = "autosnap"
    rounds: int = 3
    #: K: children trained per round.
    children: int = 8
    max_len: int = DEFAULT_MAX_LEN
    min_len: int = 1
    seed: int = 0
    #: Modules to import before the strategy is looked up (plug-in strategies).
    plugins: tuple[str, ...] = ()
    #: Successive halving inside each round (autosnap.search.fidelity); off by default.
    fidelity: FidelityConfig = FidelityConfig()
    #: (name, settings) of the strategy sections given, each its Config's instance.
    sections: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        strategies.load_plugins(self.plugins)
        strategies.get(self.strategy)
        if self.children < 1 or self.rounds < 1:
            raise ValueError("children and rounds must be at least 1")
        if not 1 <= self.min_len <= self.max_len:
            raise ValueError(f"need 1 <= min_len <= max_len, got {self.min_len}, {self.max_len}")

    @property
    def grammar(self) -> SnapGrammar:
        return SnapGrammar(max_len=self.max_len)

    def settings(self, strategy: str | None = None) -> Any:
        """The settings of `strategy` (default: the search's): its section, or its
        Config's defaults."""
        name = strategy or self.strategy
        given = dict(self.sections)
        return given[name] if name in given else strategies.get(name).Config()

    @property
    def needs_model(self) -> bool:
        """Whether the search's strategy fits the value model between rounds."""
        return strategies.get(self.strategy).needs_model


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
    """What the strategy's settings ask of the search's and the value model's keys
    (the strategy's own `check`)."""
    strategies.get(search.strategy).check(search.settings(), search, value_model)


def search_config(section: dict | None, where: str = "search") -> SearchConfig:
    """SearchConfig of a `search:` section, bad keys named as `search.<key>`: the shared
    keys, and every other key a strategy's section (plug-ins imported first)."""
    section = dict(section or {})
    shared = {f.name for f in fields(SearchConfig)} - {"sections"}
    key = "plugins"
    try:
        strategies.load_plugins(_plugins(section.get("plugins")))
        key = "strategy"
        strategies.get(section.get("strategy", SearchConfig.strategy))
    except ConfigError as e:
        raise ConfigError(f"{where}.{key}: {e}") from e
    sections = []
    for name in [k for k in section if k not in shared]:
        value = section.pop(name)
        if f"search.{name}" in MOVED:
            raise ConfigError(f"{where}.{name}: {MOVED[f'search.{name}']}")
        if not isinstance(value, dict) or name not in strategies.names():
            raise ConfigError(f"{where}.{name}: unknown key, expected a shared key "
                              f"({', '.join(sorted(shared))}) or the section of a strategy "
                              f"({', '.join(strategies.names())})")  # fmt: skip
        sections.append((name, from_dict(strategies.get(name).Config, value, f"{where}.{name}")))
    return replace(from_dict(SearchConfig, section, where), sections=tuple(sections))


def _plugins(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"expected a list of module names, got {value!r}")
    return list(value)


def value_model_config(section: dict | None) -> ValueModelConfig:
    """ValueModelConfig of a `value_model:` section, bad keys named as `value_model.<key>`."""
    return from_dict(ValueModelConfig, section, "value_model")
