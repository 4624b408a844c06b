"""autosnap's ablation: the search of today, then one component of #15 added at a time.

Each variant is a name (the `strategy` column of the curves) and the `search:` and
`value_model:` keys it sets on top of the tabular settings and the demo's value model.
The steps are cumulative, so the table reads top to bottom as "what each addition did";
the two after them take back, one part at a time, the component (UCB) that SNAP-Bench
and cora did not support; the last three change how the pool alone picks: credit per
source, then credit by Thompson sampling and credit without random SNAPs (`CHANGES`).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch

import autosnap
from autosnap.search.config import ValueModelConfig
from autosnap.search.tabular import Lookup, run_search
from autosnap.tables import atomic_write

#: name -> (search keys, value_model keys)
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # AutoSNAP's engine as it was: first-come ascent, unscored fill, one head, from scratch
    "autosnap": ({}, {}),
    # + a scored candidate pool: ascent decodes, mutations, tournament children, random;
    #   the best K by predicted value, at most 2 per parent
    "autosnap+pool": ({"candidates": 200}, {}),
    # + uncertainty: 5 bootstrap heads, upper confidence bound mean + 1 sd
    "autosnap+ucb": ({"candidates": 200, "beta": 1.0}, {"heads": 5}),
    # + trust region: steps of one nearest-neighbour distance, re-encoded, adapted
    "autosnap+trust": ({"candidates": 200, "beta": 1.0, "trust_radius": 1.0}, {"heads": 5}),
    # + a pretrained auto-encoder every round starts from (fine-tuned 300 steps)
    "autosnap+pretrain": (
        {"candidates": 200, "beta": 1.0, "trust_radius": 1.0},
        {"heads": 5, "pretrain_steps": 3000, "steps": 300},
    ),  # fmt: skip
    # - the exploration bonus (beta 0): the 5 heads' mean alone scores and steers
    "autosnap+pretrain-beta": (
        {"candidates": 200, "trust_radius": 1.0},
        {"heads": 5, "pretrain_steps": 3000, "steps": 300},
    ),  # fmt: skip
    # - uncertainty altogether (one head, no UCB): UCB was behind the pool alone (SNAP-Bench
    #   and cora at 50 queries), so this asks whether pool, trust and pretraining do as
    #   well without it; on cora and citeseer they do not (README of benchmarks/)
    "autosnap+pretrain-ucb": (
        {"candidates": 200, "trust_radius": 1.0},
        {"pretrain_steps": 3000, "steps": 300},
    ),  # fmt: skip
    # the scored pool with credit per source: the K picks shared among ascent, mutation,
    #   evolution and random by how often each one's children entered the top set in
    #   earlier rounds, the model picking the best within each (the pool alone picks
    #   62-71 % ascent decodes, which on NAS-Bench-Graph the model cannot rank:
    #   pool_origins.py)
    "autosnap+pool+credit": ({"candidates": 200, "source_credit": True}, {}),
    # credit by Thompson sampling: each pick to the source with the highest Beta draw,
    #   which concentrates on the best source as evidence grows (matching keeps every
    #   source near its rate, random's included)
    "autosnap+pool+thompson": (
        {"candidates": 200, "source_credit": True, "credit_rule": "thompson"},
        {},
    ),
    # credit without random SNAPs as a source: after round 0 they never beat the
    #   search's best on NAS-Bench-Graph (pool_origins.py), yet matching keeps their share
    "autosnap+pool+credit-random": (
        {"candidates": 200, "source_credit": True, "sources": ("ascent", "mutation", "evolution")},
        {},
    ),
}


#: The variant a row changes where that is not the row above it in VARIANTS: credit
#: changes how the pool alone picks, not the removal rows before it, and the credit
#: rules change credit.
CHANGES: dict[str, str] = {
    "autosnap+pool+credit": "autosnap+pool",
    "autosnap+pool+thompson": "autosnap+pool+credit",
    "autosnap+pool+credit-random": "autosnap+pool+credit",
}


def variant(name: str, vm: ValueModelConfig) -> tuple[dict[str, Any], ValueModelConfig]:
    """The search options and value model of a variant (`vm`: the demo's budget)."""
    if name not in VARIANTS:
        raise SystemExit(f"unknown variant '{name}', expected one of {list(VARIANTS)}")
    search, model = VARIANTS[name]
    return search, replace(vm, **model)


def strategy_of(name: str) -> str:
    """The strategy a curve name runs: every variant is autosnap."""
    return "autosnap" if name in VARIANTS else name


def search(bench: Lookup, name: str, seed: int, rounds: int, k: int, vm: ValueModelConfig
           ) -> tuple[list[dict], list[dict]]:  # fmt: skip
    """One tabular search of strategy or variant `name`: its curve rows and (autosnap)
    the predictor's taus per round. Top level, so a process pool can run it."""
    torch.set_num_threads(1)
    options: dict[str, Any] = {}
    if name in VARIANTS:
        options, vm = variant(name, vm)
    predictor: list[dict] = []
    log = predictor if name in VARIANTS else None
    queries = run_search(bench, strategy_of(name), seed, rounds, k, vm, log, options)
    rows = [{"strategy": name, "seed": seed, "queries": q.queries, "best_valid": q.best_valid,
             "test_of_best_valid": q.test_of_best_valid} for q in queries]  # fmt: skip
    return rows, [{"strategy": name, **p} for p in predictor]


def run_all(bench: Lookup, names: list[str], seeds: int, first_seed: int, rounds: int,
            k: int, vm: ValueModelConfig, cores: int, work: Path
            ) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Every (name, seed) search, one per process and core: curves and predictor taus.

    Each search is written to `work` as it finishes, under a key of its settings, so a
    stopped run (hours, for the ablation's middle) resumes with what it had done and a
    changed budget, variant or search code (`code_digest`) never reuses a stale search."""
    work.mkdir(parents=True, exist_ok=True)
    seed_range = range(first_seed, first_seed + seeds)
    jobs = [(n, s) for n in names for s in seed_range]
    paths = {j: work / f"{j[0]}_seed{j[1]}_{settings_key(j[0], rounds, k, vm)}.json" for j in jobs}
    todo = [j for j in jobs if not paths[j].exists()]
    print(f"{len(jobs) - len(todo)} of {len(jobs)} searches done before, in {work}", flush=True)
    start = time.perf_counter()
    with ProcessPoolExecutor(cores) as pool:
        running = {pool.submit(search, bench, n, s, rounds, k, vm): (n, s) for n, s in todo}
        for i, fut in enumerate(as_completed(running), 1):
            rows, preds = fut.result()
            text = json.dumps({"curve": rows, "predictor": preds})
            atomic_write(paths[running[fut]], lambda tmp, text=text: tmp.write_text(text))
            print(f"search {i}/{len(todo)} done: {running[fut][0]} seed {running[fut][1]} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
    done = [json.loads(paths[j].read_text()) for j in jobs]
    curves = pd.DataFrame([row for d in done for row in d["curve"]])
    return curves, pd.DataFrame([p for d in done for p in d["predictor"]])


def settings_key(name: str, rounds: int, k: int, vm: ValueModelConfig) -> str:
    """A short hash of what a search's result depends on besides the table and seed."""
    return digest((rounds, k, asdict(vm), VARIANTS.get(name), code_digest()))


#: The packages of autosnap a search runs: its strategies and model, and the grammar.
SEARCH_CODE = ("search", "space")


@functools.cache
def code_digest(extra: tuple[str, ...] = ()) -> str:
    """A hash of the search's code (`SEARCH_CODE`, and the modules `extra` names relative
    to the package), part of every search's work key: a change to how a search runs
    reruns the searches instead of reading back stale ones."""
    root = Path(autosnap.__file__).parent
    paths = sorted(p for d in SEARCH_CODE for p in (root / d).rglob("*.py"))
    return source_digest(paths + [root / e for e in extra], root)


def source_digest(paths: list[Path], root: Path) -> str:
    """A hash of Python files (named relative to `root`) without their comments,
    docstrings and layout: a reworded docstring keeps a benchmark's finished searches."""
    trees = []
    for path in paths:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):  # fmt: skip
                node.body = body[1:] or [ast.Pass()]
        trees.append((str(path.relative_to(root)), ast.dump(tree)))
    return digest(trees)


def digest(settings: Any) -> str:
    """A short, stable hash of JSON-able settings: the benchmarks' one name for the work
    files of a setting."""
    return hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:10]
