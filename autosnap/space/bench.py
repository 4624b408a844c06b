"""SNAP-Bench: a closed SNAP space trained whole, so strategies can be compared on tables.

The space is every architecture of at most `max_len` symbols (one SNAP per snap_id; 3,377
up to 4 symbols, multi-branch blocks with dup, swap, add and cat among them), optionally
over a subset of the symbols. The
workflow trains each member once with the `train:` budget (seed `train.seed`) and a
random `noise_fraction` of them again with each of `noise_seeds`, scoring validation and
test; `bench_table` joins the children into one row per member. Torch-free: the workflow
builds its DAG from it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from autosnap.config import from_dict
from autosnap.errors import InputError
from autosnap.space.snap import SYMBOLS, Snap, SnapGrammar, enumerate_snaps

#: One row per member: the first seed's scores, and the spread over seeds where trained.
BENCH_COLUMNS = [
    "snap", "snap_id", "length", "status", "value", "test_value", "landmark_err_mm",
    "test_landmark_err_mm", "params", "macs", "train_seconds", "seeds", "value_mean",
    "value_sd",
]  # fmt: skip


@dataclass(frozen=True)
class BenchConfig:
    """The `bench:` section of a config (config/snapbench.yaml)."""

    #: Members: every SNAP of at most this many symbols (0: no SNAP-Bench rules) ...
    max_len: int = 0
    #: ... of these symbols (empty: all of them).
    symbols: tuple[str, ...] = ()
    #: Share of the members trained again with each of `noise_seeds`.
    noise_fraction: float = 0.1
    noise_seeds: tuple[int, ...] = (1, 2)
    #: Picks the members trained again.
    seed: int = 0
    #: De-noising: the best share of the members (first-seed validation value) trained
    #: again with each of `top_seeds`, so a search is scored on seed means where the
    #: ranking is decided (docs: the top's spread is below one member's seed noise).
    top_fraction: float = 0.0
    top_seeds: tuple[int, ...] = ()
    #: De-noising: a finished table to start from instead of training the members.
    table: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.max_len <= 6:
            raise ValueError(f"max_len must be 0 (off) to 6, got {self.max_len}")
        if not 0 <= self.noise_fraction <= 1:
            raise ValueError(f"noise_fraction must be in [0, 1], got {self.noise_fraction}")
        if not 0 <= self.top_fraction <= 1:
            raise ValueError(f"top_fraction must be in [0, 1], got {self.top_fraction}")
        if set(self.top_seeds) & set(self.noise_seeds):
            raise ValueError(f"top_seeds {list(self.top_seeds)} repeat noise_seeds "
                             f"{list(self.noise_seeds)}: a seed trains a member once")  # fmt: skip
        unknown = [s for s in self.symbols if s not in SYMBOLS]
        if unknown:
            raise ValueError(f"symbols {unknown} are not SNAP symbols, expected some of "
                             f"{list(SYMBOLS)}")  # fmt: skip

    @property
    def grammar(self) -> SnapGrammar:
        """The closed space as a grammar: every sequence it accepts is a member."""
        return SnapGrammar(max_len=self.max_len, symbols=self.symbols or tuple(SYMBOLS))


def bench_config(section: dict | None) -> BenchConfig:
    """BenchConfig of a `bench:` section, bad keys named as `bench.<key>`."""
    return from_dict(BenchConfig, section, "bench")


def members(cfg: BenchConfig) -> list[Snap]:
    """The closed space, in a fixed order (slot = index)."""
    if cfg.max_len < 1:
        raise InputError("bench.max_len is 0: set it (e.g. 4) to tabulate SNAP-Bench")
    return enumerate_snaps(cfg.max_len, cfg.grammar.symbols)


def noise_members(cfg: BenchConfig, n: int) -> list[int]:
    """Indices of the members trained with every noise seed (the same for each seed)."""
    k = round(cfg.noise_fraction * n)
    return sorted(random.Random(cfg.seed).sample(range(n), k))


def proposals(snaps: Sequence[Snap]) -> pd.DataFrame:
    """A proposals table (PROPOSAL_COLUMNS) of members, one slot each."""
    return pd.DataFrame({
        "round": 0, "slot": range(len(snaps)), "snap": [s.text for s in snaps],
        "snap_id": [s.snap_id for s in snaps], "origin": "bench",
        "predicted_value": np.nan,
    })  # fmt: skip


def bench_table(children: pd.DataFrame, first_seed: int) -> pd.DataFrame:
    """One row per member (BENCH_COLUMNS) from the children of every seed: the scores of
    `first_seed`, and mean, sd and count of the value over the seeds it was trained with."""
    first = children[children["seed"] == first_seed].set_index("snap_id")
    ok = children[children["status"] == "ok"]
    spread = ok.groupby("snap_id")["value"].agg(seeds="count", value_mean="mean", value_sd="std")
    table = first.join(spread).reset_index()
    table["length"] = table["snap"].str.split().str.len()
    table["seeds"] = table["seeds"].fillna(0).astype(int)
    return table[BENCH_COLUMNS].sort_values(["length", "snap"], kind="stable")


def top_members(table: pd.DataFrame, fraction: float) -> list[Snap]:
    """The best `fraction` of a SNAP-Bench table's members by first-seed validation value
    (ties by snap_id), in that order: the share de-noising trains again."""
    ok = table[table["status"] == "ok"].sort_values(["value", "snap_id"],
                                                     ascending=[False, True])  # fmt: skip
    n = round(fraction * len(table))
    if len(ok) < n:
        raise InputError(f"the top {n} of {len(table)} members are wanted, but only "
                         f"{len(ok)} trained successfully")  # fmt: skip
    max_len = int(table["snap"].str.split().str.len().max())
    return [Snap.parse(s, max_len) for s in ok["snap"].head(n)]


def denoised_table(table: pd.DataFrame, children: pd.DataFrame) -> pd.DataFrame:
    """The table with the top share's new seeds pooled in: `value_mean`, `value_sd` and
    `seeds` over every seed a member was trained with, and `test_value_mean` over the
    seeds whose test value is known (the first, and the new ones: the noise seeds' test
    values are not in a table), with `test_seeds`."""
    ok = children[children["status"] == "ok"]
    new = ok.groupby("snap_id").agg(n=("value", "count"), s=("value", "sum"),
                                    t=("test_value", "sum"))  # fmt: skip
    out = table.set_index("snap_id").copy()
    old_n = out["seeds"].astype(float)
    old_mean = out["value_mean"].fillna(out["value"])
    old_ss = out["value_sd"].fillna(0.0) ** 2 * (old_n - 1).clip(lower=0)
    n = old_n.add(new["n"], fill_value=0)
    mean = (old_n * old_mean).add(new["s"], fill_value=0) / n
    # pooled sum of squares: the old members' about their mean, moved to the new mean,
    # plus every new value's
    ss = old_ss + old_n * (old_mean - mean) ** 2
    for snap_id, values in ok.groupby("snap_id")["value"]:
        ss[snap_id] += float(((values - mean[snap_id]) ** 2).sum())
    out["seeds"] = n.astype(int)
    out["value_mean"] = mean
    out["value_sd"] = np.sqrt(ss / (n - 1)).where(n > 1)
    test_n = 1 + new["n"].reindex(out.index, fill_value=0)
    out["test_value_mean"] = out["test_value"].add(new["t"], fill_value=0) / test_n
    out["test_seeds"] = test_n.astype(int)
    return out.reset_index()[[*BENCH_COLUMNS, "test_value_mean", "test_seeds"]]


def noise_ratio(children: pd.DataFrame, first_seed: int) -> dict[str, float]:
    """Signal over noise of the value: the between-architecture sd (of the members'
    first-seed values) over the within-architecture sd (pooled over the members trained
    with several seeds). At least 3 means the budget tells architectures apart."""
    ok = children[children["status"] == "ok"]
    between = ok.loc[ok["seed"] == first_seed, "value"].std()
    multi = ok.groupby("snap_id").filter(lambda g: len(g) > 1)
    within = float(np.sqrt(multi.groupby("snap_id")["value"].var().mean()))
    return {"between_sd": float(between), "within_sd": within, "ratio": float(between / within),
            "members_with_seeds": int(multi["snap_id"].nunique())}  # fmt: skip
