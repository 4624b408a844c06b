"""The one round loop of every search: propose -> evaluate -> record -> fit.

Only *evaluate* differs between the ways a search runs. The workflow trains the
children as jobs (one child table per slot) or, with `evaluate: {table: PATH}`, looks
them up (rule look_up); the benchmarks look them up in a table in process. The
workflow's jobs call `propose_round`, `record` and `fit_round` one per rule, and
`search` calls the same three in one process, so a config gives the same proposals,
histories and value models whichever way its children are evaluated.

Every random choice takes its seed from the config through autosnap.seeds: a round's
proposals (random SNAPs, tie-breaks, evolution's tournaments, Thompson draws) from
`round_rng`, and a round's fit (the network's initialisation, batches, the held-out
split and the unlabelled pool) from `fit_seed`.

One proposal step: `propose_round` looks the strategy up in the registry
(autosnap.search.strategies), builds it with its settings, calls its `propose` (which
uses the helpers of autosnap.search.proposals and, for some, a predictor), tops a short
round up with random SNAPs and returns the table. Nothing it calls calls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from autosnap.errors import InputError
from autosnap.search import strategies
from autosnap.search.config import SearchConfig, ValueModelConfig, check_pair
from autosnap.search.fidelity import RUNG_COLUMNS, at_rung
from autosnap.search.history import evaluated
from autosnap.search.predictors.bag_model import BagModel, fit_bag
from autosnap.search.predictors.value_model import ValueModel, fit_with_metrics, pretrained
from autosnap.search.proposals import table
from autosnap.seeds import fit_seed, round_rng
from autosnap.space import grammar as gr
from autosnap.tables import CHILD_COLUMNS

#: Child rows (CHILD_COLUMNS) for a round's proposals: trained, or looked up.
Evaluate = Callable[[pd.DataFrame], pd.DataFrame]
#: The status of a child whose architecture a lookup table does not hold.
NOT_IN_TABLE = "not_in_table"
#: Child columns that come from the proposal and the search, never from a lookup table.
KEPT = ("round", "slot", "snap", "snap_id", "origin", "seed")


def propose_round(
    history: pd.DataFrame | None,
    cfg: SearchConfig,
    round_: int,
    model: ValueModel | BagModel | None = None,
    grammar: gr.TokenGrammar | None = None,
    k: int | None = None,
) -> pd.DataFrame:
    """The K proposals of a round (K: `search.children` unless given), each new: round
    0 random whatever the strategy (so the strategies of one seed share it), then the
    configured strategy, topped up with random SNAPs where it proposes fewer."""
    grammar = grammar or cfg.grammar
    k = cfg.children if k is None else k
    name = "random" if round_ == 0 else cfg.strategy
    cls = strategies.get(name)
    model = model if cls.needs_model else None
    rng = round_rng(cfg.seed, round_)
    seen = at_rung(history, cfg.children)  # with rungs: the values of one rung
    strategy = cls(cfg.settings(name), cfg, grammar, model)
    props = strategy.propose(seen, k, rng)
    props.add_random(k - len(props), rng, strategy.lengths)
    df = table(props, round_)
    missing = df["predicted_value"].isna()
    if model is not None and missing.any():  # the model's view of every proposal
        df.loc[missing, "predicted_value"] = model.predict([s.split() for s in
                                                            df.loc[missing, "snap"]])  # fmt: skip
    if len(df) != k or not df["snap_id"].is_unique:
        raise InputError(f"round {round_}: strategy {name} and random SNAPs found {len(df)} "
                         f"new distinct SNAPs, not search.children = {k}: the space of "
                         f"lengths {cfg.min_len}-{cfg.max_len} is nearly exhausted")  # fmt: skip
    return df


def record(history: pd.DataFrame | None, children: pd.DataFrame) -> pd.DataFrame:
    """The history after a round: the children of every round so far, by round and slot
    (with rungs, each child's rung and learning curve too)."""
    frames = [f for f in (history, children) if f is not None]
    rungs = [c for c in RUNG_COLUMNS if any(c in f.columns for f in frames)]
    frames = [f.reindex(columns=CHILD_COLUMNS + rungs) for f in frames]
    df = pd.concat(frames, ignore_index=True).sort_values(["round", "slot"], kind="stable")
    if "curve" in df.columns:
        df["curve"] = df["curve"].fillna("")
    return df.reset_index(drop=True)


def fit_round(
    history: pd.DataFrame,
    cfg: SearchConfig,
    value_model: ValueModelConfig,
    round_: int,
    grammar: gr.TokenGrammar | None = None,
    init: ValueModel | None = None,
) -> tuple[ValueModel | BagModel, dict]:
    """The value model after `round_`, fitted on the history's successful children
    (from `init`'s weights when pretrained), and its metrics row."""
    grammar = grammar or cfg.grammar
    ok = evaluated(at_rung(history, cfg.children))  # with rungs: one rung's values
    vm = replace(value_model, seed=fit_seed(cfg.seed, value_model.seed, round_))
    if vm.kind == "bag":
        model, metrics = fit_bag(grammar, [s.split() for s in ok["snap"]], ok["value"].tolist())
        return model, {"round": round_, **metrics, "seed": vm.seed}
    model, metrics = fit_with_metrics(grammar, [s.split() for s in ok["snap"]],
                                      ok["value"].tolist(), vm, init, cfg.min_len)  # fmt: skip
    return model, {"round": round_, **metrics, "seed": vm.seed}


@dataclass
class Round:
    """What one round of `search` did."""

    round: int
    proposals: pd.DataFrame
    children: pd.DataFrame
    #: the children of rounds 0..round
    history: pd.DataFrame
    #: the value model fitted after this round and its metrics (None: no fit)
    model: ValueModel | BagModel | None
    metrics: dict | None


def search(
    cfg: SearchConfig,
    value_model: ValueModelConfig,
    evaluate: Evaluate,
    grammar: gr.TokenGrammar | None = None,
) -> Iterator[Round]:
    """Run a search round by round in this process, yielding each round as it ends."""
    grammar = grammar or cfg.grammar
    check_pair(cfg, value_model)
    if cfg.fidelity.on:
        raise InputError(
            "search.fidelity: rungs continue trainings, so only the workflow "
            "runs them (the tables of an in-process search hold final values)"
        )
    uses_model = cfg.needs_model
    init = pretrained(grammar, value_model, cfg.min_len) if uses_model else None
    history, model = None, None
    for r in range(cfg.rounds):
        proposals = propose_round(history, cfg, r, model, grammar)
        children = evaluate(proposals)
        history = record(history, children)
        model = metrics = None
        if uses_model and r < cfg.rounds - 1:
            model, metrics = fit_round(history, cfg, value_model, r, grammar, init)
        yield Round(r, proposals, children, history, model, metrics)


def read_lookup(table: pd.DataFrame, source: str = "table") -> pd.DataFrame:
    """A lookup table indexed by snap_id: one row per architecture with at least
    `value` (the validation value), and any other child columns it has."""
    missing = [c for c in ("snap_id", "value") if c not in table.columns]
    if missing:
        raise InputError(f"{source}: a lookup table needs the column(s) {missing}")
    if not table["snap_id"].is_unique:
        raise InputError(f"{source}: snap_id is not unique (one row per architecture)")
    return table.set_index("snap_id")


def look_up(proposals: pd.DataFrame, table: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Child rows for `proposals` from a lookup table (read_lookup): its `status` (ok
    where absent) and columns where it has them, NaN elsewhere; an architecture not in
    the table is a failed child (status NOT_IN_TABLE), as a training failure would be."""
    rows = []
    for p in proposals.itertuples():
        row = {c: np.nan for c in CHILD_COLUMNS}
        row.update(round=p.round, slot=p.slot, snap=p.snap, snap_id=p.snap_id, origin=p.origin,
                   status="ok", seed=seed, device="table", error="")  # fmt: skip
        if p.snap_id in table.index:
            found = table.loc[p.snap_id]
            row.update({c: found[c] for c in CHILD_COLUMNS if c in found.index and c not in KEPT})
            if pd.isna(row["status"]):
                row["status"] = "ok"
        else:
            row.update(status=NOT_IN_TABLE, value=np.nan, error=f"{p.snap_id} is not in the table")
        rows.append(row)
    return pd.DataFrame(rows, columns=CHILD_COLUMNS)
