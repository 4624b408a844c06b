"""Searches on a table instead of trainings: the same `propose` and value model as the
workflow, with every child's value looked up (SNAP-Bench, NAS-Bench-Graph).

A query is one child. Round 0 is random and, for one seed, the same for every strategy
(it depends on the search seed only), so strategies are paired by seed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from autosnap.search.compare import kendall
from autosnap.search.config import SearchConfig, ValueModelConfig
from autosnap.search.strategies import propose
from autosnap.search.value_model import ValueModel, pretrained, train_value_model
from autosnap.space import grammar as gr


@dataclass(frozen=True)
class Lookup:
    """A tabulated space: key (the grammar's identity of a sequence) -> (validation
    value, test value), and the sequences of its best members for the predictor check."""

    grammar: gr.TokenGrammar
    values: Mapping[str, tuple[float, float]]
    #: Sequences (symbol lists) and validation values of the table's top 10 %.
    top: tuple[tuple[tuple[str, ...], float], ...] = ()
    min_len: int = 1

    @property
    def best_valid(self) -> float:
        return max(v for v, _ in self.values.values())


@dataclass
class Query:
    """One child of a tabular search, and the best found so far."""

    queries: int
    round: int
    snap: str
    value: float
    best_valid: float
    test_of_best_valid: float


def tabular_search_config(strategy: str, seed: int, rounds: int, k: int, max_len: int,
                          min_len: int, **options: Any) -> SearchConfig:  # fmt: skip
    """The search settings every tabular comparison uses: K per round, the K best start
    an ascent, an evolution population of 20 with tournaments of 5; `options` set other
    `search:` keys (the ablations of benchmarks/)."""
    return SearchConfig(strategy=strategy, rounds=rounds, children=k, max_len=max_len,
                        min_len=min_len, seed=seed, top=k, population=20, tournament=5,
                        **options)  # fmt: skip


def fit_round(table: Lookup, history: pd.DataFrame, vm: ValueModelConfig, round_: int,
              init: ValueModel | None = None) -> ValueModel:  # fmt: skip
    """The value model a tabular search fits after `round_` on `history` (snap, snap_id,
    value): its unlabelled pool is `vm.random_pool` random SNAPs outside the history,
    drawn with seed `vm.seed * 1000 + round_`, so a probe of a search state
    (benchmarks/pool_origins.py) fits the model the search itself would."""
    g = table.grammar
    pool = gr.sample_unique(g, vm.random_pool, vm.seed * 1000 + round_, table.min_len,
                            g.max_len, exclude=set(history["snap_id"]))  # fmt: skip
    seqs = [s.split() for s in history["snap"]]
    return train_value_model(g, seqs, history["value"].tolist(), vm, pool, init)


def run_search(
    table: Lookup, strategy: str, seed: int, rounds: int, k: int, vm: ValueModelConfig,
    predictor: list[dict] | None = None, options: Mapping[str, Any] | None = None,
) -> Iterator[Query]:  # fmt: skip
    """One search of `rounds` x `k` queries; yields every query. With `predictor` (a
    list), each value model fitted appends its Kendall tau on the next round's children
    and on the table's top 10 %. `options`: more `search:` keys (autosnap's switches)."""
    g = table.grammar
    cfg = tabular_search_config(strategy, seed, rounds, k, g.max_len, table.min_len,
                                **(options or {}))  # fmt: skip
    init = pretrained(g, vm, table.min_len) if strategy == "autosnap" else None
    vm = replace(vm, seed=seed)  # the pretraining is one per grammar, the fit one per seed
    rows: list[dict] = []
    model = None
    best_valid, best_test = -np.inf, np.nan
    for r in range(rounds):
        props = propose(pd.DataFrame(rows) if rows else None, cfg, r, model, k=k,
                        strategy="random" if r == 0 else strategy, grammar=g)  # fmt: skip
        for _, p in props.iterrows():
            valid, test = table.values[str(p["snap_id"])]
            rows.append({"round": r, "slot": p["slot"], "snap": p["snap"],
                         "snap_id": p["snap_id"], "origin": p["origin"], "status": "ok",
                         "value": valid})  # fmt: skip
            if valid > best_valid:
                best_valid, best_test = valid, test
            yield Query(len(rows), r, p["snap"], valid, best_valid, best_test)
        if model is not None and predictor is not None:
            actual = [table.values[str(i)][0] for i in props["snap_id"]]
            predictor[-1]["tau_next"] = kendall(props["predicted_value"].tolist(), actual)
        if strategy == "autosnap" and r < rounds - 1:
            model = fit_round(table, pd.DataFrame(rows), vm, r, init)
            if predictor is not None:
                top = table.top
                pred = model.predict([list(s) for s, _ in top]) if top else []
                predictor.append({"seed": seed, "round": r, "trained_on": len(rows),
                                  "tau_top10": kendall(list(pred), [v for _, v in top]),
                                  "tau_next": np.nan})  # fmt: skip
