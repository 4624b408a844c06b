"""The strategy registry: a search strategy is one class in one module.

    from dataclasses import dataclass
    from autosnap.search.strategies import Strategy, register

    @dataclass(frozen=True)
    class Settings:            # the keys of its `search.<name>:` section, with defaults
        width: int = 4

    @register
    class Mine(Strategy):
        name = "mine"
        Config = Settings
        needs_model = False    # True: the loop fits the value model between rounds

        def propose(self, history, k, rng):
            props = self.proposals(history, k)
            ...                # props.add(...), props.add_mutations(...), ...
            return props       # fewer than k: the loop tops up with random SNAPs

The built-in strategies are the modules of this package. Others are imported from the
modules a config names in `search.plugins` (importable: installed, or on PYTHONPATH),
before its strategy is looked up, in every process of a run. Everything that lists
strategies (the CLI's choices, the config check, the workflow's "needs a model" switch,
the experiment loader) asks this registry.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from autosnap.config import ConfigError
from autosnap.search.proposals import Proposals

if TYPE_CHECKING:  # the model arrives as an argument; importing it would load torch
    from autosnap.search.config import SearchConfig, ValueModelConfig
    from autosnap.space.grammar import TokenGrammar

_REGISTRY: dict[str, type[Strategy]] = {}
_BUILTINS_LOADED = False


@dataclasses.dataclass(frozen=True)
class NoSettings:
    """The section of a strategy without settings."""


class Strategy:
    """One round's proposer. The loop builds it per round with the strategy's settings,
    the search's shared keys, the grammar and (when `needs_model`) the value model
    fitted after the last round, and calls `propose` once."""

    #: The name in `search.strategy` and of its section `search.<name>`.
    name: ClassVar[str]
    #: The dataclass of its section's keys (frozen, with defaults).
    Config: ClassVar[type] = NoSettings
    #: Whether the loop fits the value model (value_model:) between rounds for it.
    needs_model: ClassVar[bool] = False

    def __init__(self, settings: Any, search: SearchConfig, grammar: TokenGrammar,
                 model: Any = None):  # fmt: skip
        self.settings, self.search, self.grammar, self.model = settings, search, grammar, model

    @property
    def lengths(self) -> tuple[int, int]:
        """The SNAP lengths the search allows (search.min_len, search.max_len)."""
        return self.search.min_len, min(self.search.max_len, self.grammar.max_len)

    def proposals(self, history: pd.DataFrame | None, k: int) -> Proposals:
        """An empty round of at most `k` new SNAPs (none the history holds)."""
        return Proposals(self.grammar, history, k)

    def propose(self, history: pd.DataFrame | None, k: int, rng: np.random.Generator
                ) -> Proposals:  # fmt: skip
        """Up to `k` new SNAPs from the history of trained children (failed ones
        included); every random draw from `rng`."""
        raise NotImplementedError

    @classmethod
    def check(cls, settings: Any, search: SearchConfig, value_model: ValueModelConfig) -> None:
        """Raise ConfigError where the settings contradict the search's or the value
        model's keys (valid alone, not together). Nothing by default."""


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: add a strategy to the registry under `cls.name`."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise TypeError(f"{cls.__qualname__}: a strategy needs a `name` that is an identifier")
    if not dataclasses.is_dataclass(cls.Config):
        raise TypeError(f"strategy {name}: Config must be a dataclass, got {cls.Config!r}")
    known = _REGISTRY.get(name)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise TypeError(f"strategy {name}: registered twice ({known.__module__}, {cls.__module__})")
    _REGISTRY[name] = cls
    return cls


def _builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")


def load_plugins(modules: Iterable[str]) -> None:
    """Import the modules of `search.plugins` (each registers its strategies)."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as e:
            raise ConfigError(
                f"cannot import '{module}' ({e}); a plug-in "
                "is an importable module: installed, or on PYTHONPATH"
            ) from e


def names() -> tuple[str, ...]:
    """Every registered strategy, built-ins first."""
    _builtins()
    return tuple(_REGISTRY)


def get(name: str) -> type[Strategy]:
    """The strategy registered as `name`; ConfigError naming the known ones otherwise
    (the caller names the key)."""
    _builtins()
    if name not in _REGISTRY:
        raise ConfigError(f"no strategy '{name}', expected one of "
                          f"{', '.join(_REGISTRY)} (plug-ins: list their modules in "
                          "search.plugins)")  # fmt: skip
    return _REGISTRY[name]


def needs_model(name: str) -> bool:
    """Whether strategy `name` fits the value model between rounds."""
    return get(name).needs_model
