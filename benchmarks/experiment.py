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

The file is checked against benchmarks/experiment.schema.yaml and read with the
configs' `from_dict`. A strategy's `search:` names its `strategy` and pins every key of
that strategy's section (and, for a strategy with a value model, of `value_model:`), and
nothing else: rounds, children, the seed and the SNAP lengths come from the experiment
and the table, so no default of the code can change an experiment behind its back. A
registered study whose file the code has moved past names the commit that reads it
(`code_commit`); it still loads, for its results page, and the harness refuses to run it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from autosnap.config import ConfigError, check_against, from_dict
from autosnap.data.config import DataConfig
from autosnap.errors import InputError
from autosnap.search import strategies as registry
from autosnap.search.config import SearchConfig, ValueModelConfig
from autosnap.search.config import search_config as parse_search
from autosnap.sim.fluoro import Geometry
from autosnap.training.config import TrainConfig

SCHEMA = Path(__file__).with_name("experiment.schema.yaml")


class ExperimentError(InputError):
    """A malformed experiment file (names the file and the key)."""


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
class SearchFile:
    """The keys of a `kind: search` file, as from_dict reads them."""

    description: str
    kind: str
    tables: tuple[str, ...]
    seeds: tuple[int, ...]
    rounds: int
    children: int
    budgets: tuple[int, ...]
    strategies: dict
    status: str = "exploration"
    code_commit: str | None = None
    compare: dict | None = None
    endpoints: dict | None = None
    settings: dict | None = None
    training: dict | None = None


@dataclass(frozen=True)
class MeasureFile:
    """The keys of a `kind: measure` file."""

    description: str
    kind: str
    measure: str
    status: str = "exploration"
    args: tuple[str | int | float, ...] = ()


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
    #: the commit whose code reads this file (None: this code does)
    code_commit: str | None = None

    @property
    def name(self) -> str:
        return self.path.stem


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


@cache
def _schema() -> dict:
    return yaml.safe_load(SCHEMA.read_text())


def load(path: str | Path) -> Experiment | Measurement:
    """Read and check an experiment file; errors name the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{path}: no such experiment file (see benchmarks/experiments/)")
    raw = path.read_bytes()
    data = yaml.safe_load(raw) or {}
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in _schema():
        raise ExperimentError(f"{path}: kind: expected 'search' or 'measure', got {kind!r}")
    check_against(data, str(path), _schema()[kind], ExperimentError)
    digest = hashlib.sha256(raw).hexdigest()
    try:
        if kind == "measure":
            return _measurement(path, from_dict(MeasureFile, data, str(path)), digest)
        return _experiment(path, from_dict(SearchFile, data, str(path)), digest)
    except ConfigError as e:
        raise ExperimentError(str(e)) from e


def _measurement(path: Path, f: MeasureFile, digest: str) -> Measurement:
    from benchmarks import measure

    if not (Path(measure.__file__).parent / f"{f.measure}.py").exists():
        raise ExperimentError(f"{path}: measure: no benchmarks/measure/{f.measure}.py")
    return Measurement(path, f.description, f.status, f.measure, tuple(map(str, f.args)), digest)


def _experiment(path: Path, f: SearchFile, digest: str) -> Experiment:
    def fail(where: str, what: str) -> ExperimentError:
        return ExperimentError(f"{path}: {where}: {what}")

    if f.code_commit is None:  # read by this code: every strategy checked and pinned
        for name, sections in f.strategies.items():
            _check_strategy(name, sections, f, fail)
    if "demo" in f.tables:
        if not f.training:
            raise fail("training", "the demo table needs data, train and max_len")
        for section, cls in (("data", DataConfig), ("train", TrainConfig)):
            missing = sorted(_fields(cls) - set(f.training[section]))
            if missing:
                raise fail(f"training.{section}", f"names no {missing} (all are pinned)")
        missing = sorted(_fields(Geometry) - set(f.training["data"].get("geometry") or {}))
        if missing:
            raise fail("training.data.geometry", f"names no {missing}")
    compare = f.compare or {}
    if compare.get("first") and compare["first"] not in f.strategies:
        raise fail("compare.first", f"'{compare['first']}' is not a strategy")
    endpoints = _endpoints(f.endpoints, f.budgets, fail)
    if f.status == "registered" and (endpoints is None or not compare.get("first")):
        raise fail("endpoints" if endpoints is None else "compare.first",
                   "a registered study names its endpoints and the strategy it tests")  # fmt: skip
    first, last = f.seeds
    return Experiment(path, f.description, f.status, f.tables, tuple(range(first, last + 1)),
                      f.rounds, f.children, f.budgets, f.strategies, compare.get("first"),
                      tuple(compare["against"]) if compare.get("against") else None, digest,
                      f.training, endpoints, f.code_commit)  # fmt: skip


def _check_strategy(name: str, sections: dict, f: SearchFile, fail) -> None:
    """A strategy's search names its strategy and pins that strategy's section, and
    nothing else; with a value model, every key of value_model: too."""
    where = f"strategies.{name}.search"
    search = dict(sections["search"])
    try:
        registry.load_plugins(search.get("plugins") or ())
        cls = registry.get(search.get("strategy", ""))
    except ConfigError as e:
        raise fail(f"{where}.strategy", str(e)) from e
    own = cls.name
    extra = sorted(set(search) - {"strategy", "plugins", own})
    if extra:
        raise fail(f"{where}.{extra[0]}", f"not pinned here: an experiment's strategy names only "
                   f"`strategy` and its section `{own}` (rounds, children, seed and lengths "
                   "come from the experiment)")  # fmt: skip
    need = {(where, own): _fields(cls.Config)} if _fields(cls.Config) else {}
    if cls.needs_model:
        need[(f"strategies.{name}", "value_model")] = _fields(ValueModelConfig)
    elif "value_model" in sections:
        raise fail(f"strategies.{name}.value_model", f"strategy {own} fits no value model")
    for (parent, section), keys in need.items():
        holder = search if section == own else sections
        given = set((holder.get(section) or {}).keys())
        if given - keys:
            raise fail(f"{parent}.{section}.{sorted(given - keys)[0]}", "unknown key")
        if keys - given:
            raise fail(f"{parent}.{section}", f"names no {sorted(keys - given)} (all are pinned)")
    try:
        cfg = parse_search({**search, "rounds": f.rounds, "children": f.children}, where)
        vm = from_dict(ValueModelConfig, sections.get("value_model"),
                       f"strategies.{name}.value_model")  # fmt: skip
        cls.check(cfg.settings(), cfg, vm)
    except ConfigError as e:
        key, what = str(e).split(": ", 1)  # a check's key is a config's: search.<...>
        raise fail(
            key if key.startswith("strategies.") else f"strategies.{name}.{key}", what
        ) from e


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
    section = exp.strategies[strategy]["search"]
    return parse_search({**section, "rounds": exp.rounds, "children": exp.children, "seed": seed,
                         "max_len": max_len, "min_len": min_len},
                        f"{exp.path}: strategies.{strategy}.search")  # fmt: skip


def check_runnable(exp: Experiment) -> None:
    """Refuse an experiment this code does not read (`code_commit`), naming where it runs."""
    if exp.code_commit:
        c = exp.code_commit[:12]
        raise ExperimentError(f"{exp.path}: read by the code of commit {c} (code_commit); run "
                              f"it there: git worktree add ../autosnap-{c[:7]} {c}")  # fmt: skip


def value_model_config(exp: Experiment, strategy: str) -> ValueModelConfig:
    return ValueModelConfig(**(exp.strategies[strategy].get("value_model") or {}))
