"""The spaces a strategy experiment searches. A table holds every architecture with its
validation and test value, so a search looks its children up instead of training them;
the demo task trains them.

- `demo`: SNAPs trained on the task itself, with the data and training the experiment's
  `training:` section pins (TrainedSpace); no test values, so regret counts from the
  best any of the experiment's searches found;
- `snapbench`: the SNAP space trained whole by the workflow (results/snapbench_table.parquet,
  made by `snakemake --configfile config/snapbench.yaml bench`), or another such table
  by its path;
- `snapbench-denoised`: the same with its top 10 % trained with 3 more seeds
  (results/snapbench_denoised.parquet, `bench.top_fraction` and `top_seeds`): every
  value and test value is the mean over a member's seeds, so finding the best is not
  finding a lucky seed;
- `nasbench_graph/<dataset>`: NAS-Bench-Graph's 26,206 graph networks per dataset, from
  the `nas-bench-graph` wheel, written as a five-token grammar. Where the wheel holds
  fewer (`proteins`: 2,021), the grammar allows only the tabulated ones (MemberGrammar):
  otherwise nine queries in ten would be architectures the table cannot answer, and a
  search would be measured on how it avoids holes rather than on what it finds.

NAS-Bench-Graph's `pubmed` and `photo` are held back for an independent check: no
experiment may search them.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from autosnap.config import from_dict
from autosnap.errors import InputError
from autosnap.space import grammar as gr
from autosnap.space.bench import bench_config
from autosnap.space.snap import Snap, SnapGrammar
from autosnap.tables import exclusive, read_table
from autosnap.training.config import TrainConfig
from autosnap.training.runner import train_snaps

HERE = Path(__file__).resolve().parent
SNAPBENCH = HERE / "results" / "snapbench_table.parquet"
SNAPBENCH_DENOISED = HERE / "results" / "snapbench_denoised.parquet"
#: Datasets no run may touch: kept for an independent check of what the others show.
HELD_BACK = ("pubmed", "photo")


class TableError(InputError):
    """An unknown or held-back table name."""


@dataclass(frozen=True)
class BenchTable:
    """A tabulated space: its grammar, and per architecture (index snap_id, the grammar's
    key) `value`, `test_value` and `status`, plus any other child columns."""

    name: str
    grammar: gr.TokenGrammar
    lookup: pd.DataFrame
    min_len: int = 1

    @functools.cached_property
    def ok(self) -> pd.DataFrame:
        return self.lookup[self.lookup["status"] == "ok"]

    @property
    def best_valid(self) -> float:
        return float(self.ok["value"].max())

    @property
    def best_test(self) -> float:
        return float(self.ok["test_value"].max())

    @functools.cached_property
    def top(self) -> tuple[list[list[str]], np.ndarray]:
        """Sequences and validation values of the top 10 % (the predictor's check)."""
        best = self.ok.nlargest(max(1, len(self.ok) // 10), "value")
        return [s.split() for s in best["snap"]], best["value"].to_numpy()


@dataclass(frozen=True)
class TrainedSpace:
    """The demo task as a space: each child trained in process (through the child cache,
    so a resumed or repeated search trains nothing twice) on data rendered once."""

    name: str
    data: dict
    train: dict
    max_len: int
    work: Path
    min_len: int = 1

    @property
    def grammar(self) -> SnapGrammar:
        return SnapGrammar(max_len=self.max_len)

    @property
    def data_dir(self) -> Path:
        return self.work / "data"

    def prepare(self) -> None:
        """Render the data set once (the first of several processes does it)."""
        from autosnap.data.prepare import prepare_data

        with exclusive(self.work / "data.lock"):
            if not (self.data_dir / "test.parquet").exists():
                prepare_data(self.data, self.data_dir)

    def evaluate(self, proposals: pd.DataFrame, folder: Path) -> pd.DataFrame:
        """Train a round's proposals; their child tables go to `folder`."""
        archs = [Snap.parse(s, self.max_len) for s in proposals["snap"]]
        metas = [{"round": int(r.round), "slot": int(r.slot), "origin": r.origin}
                 for r in proposals.itertuples()]  # fmt: skip
        outs = [folder / f"{m['slot']}.parquet" for m in metas]
        train_snaps(archs, metas, outs, self.data_dir, from_dict(TrainConfig, self.train, "train"),
                    cache_dir=self.work / "cache")  # fmt: skip
        return pd.concat([read_table(o) for o in outs], ignore_index=True)


def load(name: str) -> BenchTable:
    """The table called `name` (module docstring), or a SNAP-Bench-like Parquet file by
    its path (its metadata holding the `bench:` section of its space); read once per
    process."""
    if name == "snapbench-denoised":
        return _snapbench(str(SNAPBENCH_DENOISED), denoised=True)
    if name == "snapbench" or name.endswith(".parquet"):
        return _snapbench(str(SNAPBENCH if name == "snapbench" else Path(name).resolve()))
    kind, _, dataset = name.partition("/")
    if kind == "nasbench_graph" and dataset:
        if dataset in HELD_BACK:
            held = ", ".join(HELD_BACK)
            raise TableError(f"{name}: NAS-Bench-Graph {dataset} is held back for an "
                             f"independent check ({held}); no run searches it")  # fmt: skip
        return _nasbench_graph(dataset)
    raise TableError(f"unknown table '{name}', expected demo, snapbench, snapbench-denoised or "
                     "nasbench_graph/<dataset>")  # fmt: skip


@functools.cache
def _snapbench(path: str, denoised: bool = False) -> BenchTable:
    table = pd.read_parquet(path)
    grammar = bench_config(table.attrs["bench"]).grammar  # proposals stay in the space
    if denoised:  # a member's value is its mean over the seeds it was trained with
        table = table.assign(value=table["value_mean"], test_value=table["test_value_mean"])
    return BenchTable(Path(path).stem, grammar, table.set_index("snap_id"))


@functools.cache
def _nasbench_graph(dataset: str) -> BenchTable:
    import nas_bench_graph as nbg

    results = {str(k): v for k, v in nbg.light_read(dataset).items()}
    g = NasBenchGraphGrammar()
    first: dict[str, tuple[str, ...]] = {}
    for link in LINKS:
        for ops in itertools.product(OPS, repeat=4):
            seq = (link, *ops)
            if gr.is_valid(g, seq):
                first.setdefault(g.key(seq), seq)
    rows = [{"snap_id": k, "snap": " ".join(seq), "value": results[k]["valid_perf"],
             "test_value": results[k]["perf"], "status": "ok"}
            for k, seq in first.items() if k in results]  # fmt: skip
    grammar: gr.TokenGrammar = g
    if len(rows) < len(first):
        grammar = MemberGrammar(g, frozenset(tuple(r["snap"].split()) for r in rows))
    return BenchTable(f"nasbench_graph/{dataset}", grammar,
                      pd.DataFrame(rows).set_index("snap_id"), 5)  # fmt: skip


@dataclass(frozen=True)
class MemberGrammar:
    """A grammar narrowed to a set of its sequences (an incomplete table's members):
    its state is the prefix so far, and a symbol is allowed where the prefix it makes
    begins some member. Sampling, mutation and decoding then stay inside the table."""

    base: gr.TokenGrammar
    members: frozenset[tuple[str, ...]]

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.base.symbols

    @property
    def max_len(self) -> int:
        return self.base.max_len

    @functools.cached_property
    def shortest(self) -> dict[tuple[str, ...], int]:
        """Per prefix of a member, the length of the shortest member it begins."""
        out: dict[tuple[str, ...], int] = {}
        for m in self.members:
            for i in range(len(m) + 1):
                out[m[:i]] = min(out.get(m[:i], len(m)), len(m))
        return out

    def initial_state(self) -> tuple[str, ...]:
        return ()

    def advance(self, state: tuple[str, ...], symbol: str) -> tuple[str, ...]:
        return (*state, symbol)

    def allowed(self, state: tuple[str, ...], remaining: int) -> list[bool]:
        """A symbol whose prefix begins a member that fits in `remaining` more."""
        short = self.shortest
        return [short.get((*state, s), self.max_len + 1) - len(state) <= remaining
                for s in self.symbols]  # fmt: skip

    def can_end(self, state: tuple[str, ...]) -> bool:
        return state in self.members

    def key(self, symbols) -> str:
        return self.base.key(symbols)


def _nbg_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    import nas_bench_graph as nbg

    ops = tuple(nbg.architecture.gnn_list)
    return tuple(f"L{i}" for i in range(len(nbg.architecture.link_list))), ops


LINKS, OPS = _nbg_names()


@dataclass(frozen=True)
class NasBenchGraphGrammar:
    """NAS-Bench-Graph as tokens: a macro link pattern (L0..L8), then four operations,
    not all four `skip`. Identity is the benchmark's own canonical hash."""

    max_len: int = 5
    symbols: tuple[str, ...] = LINKS + OPS

    def initial_state(self) -> tuple[int, bool]:
        return (0, False)  # position, a non-skip operation seen

    def advance(self, state: tuple[int, bool], symbol: str) -> tuple[int, bool]:
        pos, real = state
        return (pos + 1, real or (pos > 0 and symbol != "skip"))

    def allowed(self, state: tuple[int, bool], remaining: int) -> list[bool]:
        pos, real = state
        if remaining < self.max_len - pos or pos >= self.max_len:
            return [False] * len(self.symbols)
        if pos == 0:
            return [s in LINKS for s in self.symbols]
        last = pos == self.max_len - 1
        return [s in OPS and not (last and not real and s == "skip") for s in self.symbols]

    def can_end(self, state: tuple[int, bool]) -> bool:
        return state[0] == self.max_len

    def key(self, symbols) -> str:
        import nas_bench_graph as nbg

        link = list(nbg.architecture.link_list[LINKS.index(symbols[0])])
        return str(nbg.Arch(link, list(symbols[1:])).valid_hash())
