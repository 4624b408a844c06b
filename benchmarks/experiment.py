"""An experiment: one pinned YAML file under benchmarks/experiments/ that fixes everything
its tables depend on, so they regenerate from it with one command.

    description: what it measures, in a sentence
    kind: search                    # strategies compared on tables
    status: exploration             # or: registered (a claim; see docs/results.md)
    tables: [snapbench, nasbench_graph/cora]
    seeds: [0, 19]                  # first and last, both included
    rounds: 10
    children: 10                    # K: queries per round
    budgets: [50, 100]              # query counts the endpoints are read at
    compare: {first: autosnap}      # optional `against: [...]`; default: every other
    endpoints:                      # optional; a registered study must name them
      primary: [test_regret, 100]   # (endpoint, queries): what the claim is made on
      secondary: [[valid_regret, 50], [valid_regret, 100]]
      alpha: 0.05                   # a Holm-adjusted p below it shows a difference
    settings: {...}                 # optional: YAML anchors the strategies share
    training: {data, train, max_len}  # the `demo` table's task, every key pinned
    strategies:
      NAME: {search: {...}, value_model: {...}}

A strategy names every key of its `search:` section (and, for `strategy: autosnap`,
of `value_model:`) but those the experiment and the table set (EXPERIMENT_KEYS), so no
default of the code can change an experiment behind its back.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from autosnap.data.config import DataConfig
from autosnap.errors import InputError
from autosnap.search.config import SearchConfig, ValueModelConfig
from autosnap.sim.fluoro import Geometry
from autosnap.training.config import TrainConfig

#: search keys that come from the experiment (rounds, children), the search's seed and
#: the table's grammar (max_len, min_len), not from a strategy
EXPERIMENT_KEYS = ("rounds", "children", "seed", "max_len", "min_len")
TOP_KEYS = {"description", "kind", "status", "tables", "seeds", "rounds", "children",
            "budgets", "compare", "strategies", "settings", "training", "endpoints"}  # fmt: skip
STATUSES = ("exploration", "registered")


class ExperimentError(InputError):
    """A malformed experiment file (names the file and the key)."""


#: The keys of a `kind: measure` experiment.
MEASURE_KEYS = {"description", "kind", "status", "measure", "args"}


@dataclass(frozen=True)
class Measurement:
    """`kind: measure`: one of benchmarks/measure/ with its arguments pinned.

    description: ...
    kind: measure
    measure: child_throughput       # benchmarks/measure/child_throughput.py
    args: [--sizes, 24x46, 48x92]   # its command-line arguments but --out
    """

    path: Path
    description: str
    status: str
    measure: str
    args: tuple[str, ...]
    digest: str

    @property
    def name(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class Endpoints:
    """What a registered study's claim is made on, fixed before it runs."""

    primary: tuple[str, int]
    secondary: tuple[tuple[str, int], ...]
    alpha: float


@dataclass(frozen=True)
class Experiment:
    path: Path
    description: str
    status: str
    tables: tuple[str, ...]
    seeds: tuple[int, ...]
    rounds: int
    children: int
    budgets: tuple[int, ...]
    strategies: dict[str, dict[str, dict[str, Any]]]
    first: str | None
    against: tuple[str, ...] | None
    #: sha256 of the file's bytes: what run.json records as the settings run
    digest: str
    #: the demo table's data, train and max_len (None without a demo table)
    training: dict | None = None
    #: the registered endpoints: primary and secondary (endpoint, queries), alpha
    endpoints: Endpoints | None = None

    @property
    def name(self) -> str:
        return self.path.stem


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def load(path: str | Path) -> Experiment | Measurement:
    """Read and check an experiment file; errors name the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{path}: no such experiment file (see benchmarks/experiments/)")
    raw = path.read_bytes()
    data = yaml.safe_load(raw) or {}

    def fail(where: str, what: str) -> ExperimentError:
        return ExperimentError(f"{path}: {where}: {what}")

    if data.get("kind") == "measure":
        unknown = sorted(set(data) - MEASURE_KEYS)
        if unknown:
            raise fail(unknown[0], f"unknown key, expected one of {sorted(MEASURE_KEYS)}")
        from benchmarks import measure

        module = Path(measure.__file__).parent / f"{data.get('measure')}.py"
        if not module.exists():
            raise fail("measure", f"no benchmarks/measure/{data.get('measure')}.py")
        return Measurement(path, data["description"], data.get("status", "exploration"),
                           data["measure"], tuple(str(a) for a in data.get("args") or ()),
                           hashlib.sha256(raw).hexdigest())  # fmt: skip

    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key, expected one of {sorted(TOP_KEYS)}")
    missing = sorted(TOP_KEYS - {"compare", "status", "settings", "training", "endpoints"}
                     - set(data))  # fmt: skip
    if missing:
        raise fail(missing[0], "missing")
    if data["kind"] != "search":
        raise fail("kind", f"expected 'search' or 'measure', got {data['kind']!r}")
    status = data.get("status", "exploration")
    if status not in STATUSES:
        raise fail("status", f"expected one of {STATUSES}, got {status!r}")
    first, last = data["seeds"]
    strategies = data["strategies"]
    for name, sections in strategies.items():
        search = sections.get("search") or {}
        keys = _fields(SearchConfig) - set(EXPERIMENT_KEYS)
        need = {"search": keys}
        if search.get("strategy") == "autosnap":
            need["value_model"] = _fields(ValueModelConfig)
        for section, keys in need.items():
            given = set((sections.get(section) or {}).keys())
            if given - keys:
                raise fail(f"strategies.{name}.{section}.{sorted(given - keys)[0]}",
                           "unknown key, or one the experiment sets")  # fmt: skip
            if keys - given:
                missing = sorted(keys - given)
                raise fail(f"strategies.{name}.{section}", f"names no {missing} (all are pinned)")
    training = data.get("training")
    if "demo" in data["tables"]:
        if not training or set(training) != {"data", "train", "max_len"}:
            raise fail("training", "the demo table needs data, train and max_len")
        for section, cls in (("data", DataConfig), ("train", TrainConfig)):
            missing = sorted(_fields(cls) - set(training[section]))
            if missing:
                raise fail(f"training.{section}", f"names no {missing} (all are pinned)")
        missing = sorted(_fields(Geometry) - set(training["data"]["geometry"]))
        if missing:
            raise fail("training.data.geometry", f"names no {missing}")
    compare = data.get("compare") or {}
    if compare.get("first") and compare["first"] not in strategies:
        raise fail("compare.first", f"'{compare['first']}' is not a strategy")
    endpoints = _endpoints(data.get("endpoints"), tuple(data["budgets"]), fail)
    if status == "registered" and (endpoints is None or not compare.get("first")):
        raise fail("endpoints" if endpoints is None else "compare.first",
                   "a registered study names its endpoints and the strategy it tests")  # fmt: skip
    return Experiment(path, data["description"], status, tuple(data["tables"]),
                      tuple(range(first, last + 1)), data["rounds"], data["children"],
                      tuple(data["budgets"]), strategies, compare.get("first"),
                      tuple(compare["against"]) if compare.get("against") else None,
                      hashlib.sha256(raw).hexdigest(), training, endpoints)  # fmt: skip


def _endpoints(raw: dict | None, budgets: tuple[int, ...], fail) -> Endpoints | None:
    """The `endpoints:` section, each (endpoint, queries) checked against the protocol's
    endpoints and the experiment's budgets."""
    if raw is None:
        return None
    from benchmarks.protocol import ENDPOINTS

    unknown = sorted(set(raw) - {"primary", "secondary", "alpha"})
    if unknown or "primary" not in raw:
        raise fail(f"endpoints.{unknown[0] if unknown else 'primary'}",
                   "expected primary, secondary and alpha (primary is required)")  # fmt: skip

    def one(where: str, pair) -> tuple[str, int]:
        if (not isinstance(pair, list | tuple) or len(pair) != 2 or pair[0] not in ENDPOINTS
                or pair[1] not in budgets):  # fmt: skip
            raise fail(where, f"expected [endpoint, queries] with an endpoint of {ENDPOINTS} "
                       f"and queries of the budgets {list(budgets)}, got {pair!r}")  # fmt: skip
        return str(pair[0]), int(pair[1])

    secondary = tuple(one(f"endpoints.secondary[{i}]", p)
                      for i, p in enumerate(raw.get("secondary") or []))  # fmt: skip
    alpha = raw.get("alpha", 0.05)
    if not isinstance(alpha, float) or not 0 < alpha < 1:
        raise fail("endpoints.alpha", f"expected a number between 0 and 1, got {alpha!r}")
    return Endpoints(one("endpoints.primary", raw["primary"]), secondary, alpha)


def search_config(exp: Experiment, strategy: str, seed: int, max_len: int, min_len: int
                  ) -> SearchConfig:  # fmt: skip
    """The search config of one search of `strategy`."""
    section = dict(exp.strategies[strategy]["search"])
    for key in ("sources",):
        if key in section:
            section[key] = tuple(section[key])
    return SearchConfig(**section, rounds=exp.rounds, children=exp.children, seed=seed,
                        max_len=max_len, min_len=min_len)  # fmt: skip


def value_model_config(exp: Experiment, strategy: str) -> ValueModelConfig:
    return ValueModelConfig(**(exp.strategies[strategy].get("value_model") or {}))
