"""The stages of a search round as functions of config sections and paths.

The `autosnap` CLI and the Snakemake scripts in workflow/scripts/ both call these, so a
stage does the same thing whichever way it is started. Each reads its files, calls the
round loop's own step (autosnap.search.loop: propose_round, look_up, record, fit_round)
and writes its result, so a search through the workflow is the loop run one job at a
time. Config sections arrive as plain dicts (from YAML or Snakemake's validated
config) and are checked here. The final
comparison's stages are in autosnap.pipeline.final; data preparation, which draws figures, is in
autosnap.data.prepare, so a round's jobs do not load matplotlib.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from autosnap.errors import InputError
from autosnap.progress import log
from autosnap.search import fidelity, loop
from autosnap.search.config import search_config, value_model_config
from autosnap.search.history import evaluated
from autosnap.search.predictors.value_model import (
    ValueModel,
    load_model,
    pretrain_value_model,
    pretrained,
)
from autosnap.search.proposals import EXTRA_COLUMNS
from autosnap.space.snap import Snap
from autosnap.tables import CHILD_COLUMNS, PROPOSAL_COLUMNS, read_table, write_table
from autosnap.training.config import train_config
from autosnap.training.runner import train_slots, train_snaps


def propose_round(
    search: dict | None,
    round_: int,
    out: str | Path,
    history: str | Path | None = None,
    model: str | Path | None = None,
    strategy: str | None = None,
) -> pd.DataFrame:
    """Write the proposals of a round (round 0: random, whatever the strategy)."""
    cfg = search_config(search)
    if strategy:
        cfg = replace(cfg, strategy=strategy)
    hist = read_table(history, CHILD_COLUMNS) if history else None
    uses_model = cfg.needs_model and round_ > 0 and model
    value_model = load_model(model, cfg.grammar) if uses_model else None
    df = loop.propose_round(hist, cfg, round_, value_model)
    write_table(df, out)
    log.info("%s: %d proposals %s", out, len(df), df["origin"].value_counts().to_dict())
    return df


def random_search_proposals(search: dict | None, out: str | Path) -> pd.DataFrame:
    """All proposals of a random search with the search's budget (rounds x children),
    round by round as the search would draw them, slots numbered through. Round 0 is the
    search's own round 0 (same seed), so the child cache trains it once for both."""
    cfg = replace(search_config(search), strategy="random")
    frames: list[pd.DataFrame] = []
    for r in range(cfg.rounds):  # the proposals so far stand in for a history: all it
        # needs is what is known already, since random search reads no values
        history = pd.concat(frames, ignore_index=True) if frames else None
        frames.append(loop.propose_round(history, cfg, r))
    df = pd.concat(frames, ignore_index=True)
    df["slot"] = range(len(df))
    write_table(df, out)
    log.info("%s: %d random proposals for the random-search baseline", out, len(df))
    return df


def train_children(
    proposals: str | Path,
    slots: Sequence[int],
    outputs: Sequence[str | Path],
    data_dir: str | Path,
    train: dict | None,
    max_len: int,
    evaluate: str = "val",
    cache_dir: str | Path | None = None,
    attempt: int = 1,
    test: bool = False,
    until: int | None = None,
    **overrides: object,
) -> list[dict]:
    """Train slots of a proposals table with the `train:` section (plus `overrides`,
    such as the job's threads) and write one child table per slot; SNAPs longer than
    `max_len` (search.max_len) are refused. `attempt`: the job's, in this run; `test`:
    score on the test split as well (SNAP-Bench); `until`: train to that epoch only (a
    rung), continuing the cached rung before it."""
    cfg = train_config(train, **overrides)
    return train_slots(proposals, slots, outputs, data_dir, cfg, max_len, evaluate, cache_dir,
                       attempt, "test" if test else None, until)  # fmt: skip


def train_snap(
    snap: str,
    out: str | Path,
    data_dir: str | Path,
    train: dict | None,
    search: dict | None,
    evaluate: str = "val",
    round_: int = 0,
    slot: int = 0,
    **overrides: object,
) -> dict:
    """Train one SNAP given as text and write its child table (origin `cli`)."""
    arch = Snap.parse(snap, search_config(search).max_len)
    meta = {"round": round_, "slot": slot, "origin": "cli"}
    (row,) = train_snaps([arch], [meta], [out], data_dir, train_config(train, **overrides),
                         evaluate)  # fmt: skip
    return row


def look_up_children(
    proposals: str | Path, table: str | Path, outputs: Sequence[str | Path], seed: int = 0
) -> pd.DataFrame:
    """`evaluate: {table: PATH}`: one child table per slot of a round's proposals, looked
    up in a table of architectures (snap_id, value, ...) instead of trained."""
    props = read_table(proposals)
    if len(outputs) != len(props):
        raise InputError(f"{proposals}: {len(props)} proposals for {len(outputs)} child tables")
    children = loop.look_up(props, loop.read_lookup(read_table(table), str(table)), seed)
    for i, out in enumerate(outputs):
        write_table(children.iloc[[i]], out)
    log.info("%s: %d children looked up in %s (%d not in it)", proposals, len(children), table,
             int((children["status"] == loop.NOT_IN_TABLE).sum()))  # fmt: skip
    return children


def collect(tables: Sequence[str | Path], out: str | Path) -> pd.DataFrame:
    """Concatenate child (and earlier history) tables into a history table."""
    frames = [read_table(p, CHILD_COLUMNS) for p in tables]
    df = loop.record(None, pd.concat(frames, ignore_index=True))
    write_table(df, out)
    ok = int((df["status"] == "ok").sum())
    log.info("%s: %d children (%d ok), best value %.4f", out, len(df), ok, df["value"].max())
    return df


def promote(children: Sequence[str | Path], n: int, out: str | Path) -> pd.DataFrame:
    """The next rung's proposals: the `n` best of a rung's children (fidelity.promote)."""
    rung = pd.concat([read_table(p, CHILD_COLUMNS) for p in children], ignore_index=True)
    picked = fidelity.promote(rung, n)
    write_table(picked.reindex(columns=PROPOSAL_COLUMNS + EXTRA_COLUMNS), out)
    log.info("%s: %d of %d continue (values %s)", out, len(picked), len(rung),
             ", ".join(f"{v:.4f}" for v in picked["value"]))  # fmt: skip
    return picked


def collect_rungs(previous: str | Path | None, proposals: str | Path,
                  rungs: Sequence[Sequence[str | Path]], epochs: Sequence[int],
                  out: str | Path) -> pd.DataFrame:  # fmt: skip
    """A round's history with rungs: each proposal's row at the highest rung it reached,
    with its rung and learning curve (fidelity.merge_rungs), after the history before."""
    props = read_table(proposals, PROPOSAL_COLUMNS)
    tables = [pd.concat([read_table(p, CHILD_COLUMNS) for p in paths], ignore_index=True)
              for paths in rungs]  # fmt: skip
    children = fidelity.merge_rungs(props, tables, epochs)
    hist = read_table(previous, CHILD_COLUMNS) if previous else None
    df = loop.record(hist, children)
    write_table(df, out)
    done = df[df["round"] == props["round"].iloc[0]]
    log.info("%s: round of %d children, %s reached each rung", out, len(done),
             [int((done["rung"] >= i).sum()) for i in range(len(epochs))])  # fmt: skip
    return df


def pretrain(search: dict | None, value_model: dict | None, out_model: str | Path) -> None:
    """The auto-encoder pretrained on reconstruction of random SNAPs of the search's
    grammar (value_model.pretrain_steps, pretrain_pool), for every round's fit."""
    cfg = search_config(search)
    vm_cfg = value_model_config(value_model)
    if vm_cfg.pretrain_steps <= 0:
        raise InputError("value_model.pretrain_steps is 0: nothing to pretrain")
    pretrain_value_model(cfg.grammar, vm_cfg, cfg.min_len).save(out_model)


def fit_value_model(
    history: str | Path,
    search: dict | None,
    value_model: dict | None,
    out_model: str | Path,
    out_metrics: str | Path,
    round_: int,
    pretrained_model: str | Path | None = None,
) -> dict:
    """Fit the value model on the successful children of a history; write the model and
    one metrics row. Without successful children it learns reconstruction only. With
    `value_model.pretrain_steps`, the fit starts from `pretrained_model` (rule pretrain's
    file; pretrained here when not given)."""
    cfg = search_config(search)
    vm_cfg = value_model_config(value_model)
    hist = read_table(history, CHILD_COLUMNS)
    if evaluated(hist).empty:
        log.warning("%s: no successful child; fitting reconstruction only", history)
    start = time.perf_counter()
    if vm_cfg.pretrain_steps <= 0:
        init = None
    elif pretrained_model:
        init = ValueModel.load(pretrained_model, cfg.grammar)
    else:
        init = pretrained(cfg.grammar, vm_cfg, cfg.min_len)
    model, metrics = loop.fit_round(hist, cfg, vm_cfg, round_, init=init)
    model.save(out_model)
    seed = metrics.pop("seed")
    row = {**metrics, "fit_seconds": time.perf_counter() - start, "seed": seed}
    write_table(pd.DataFrame([row]), out_metrics)
    return row
