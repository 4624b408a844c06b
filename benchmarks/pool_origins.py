"""What each source of autosnap's scored pool brings, and what the value model picks.

The scored pool (`search.candidates`, autosnap.search.candidates) mixes latent-ascent
decodes, mutations of the best, evolution's tournament children and random SNAPs, and
the model takes the best K. Whether that beats evolution depends on which of them the
model picks and how good those really are, so this measures it on tables, where every
candidate's true value is known: on a search state (the history of regularised
evolution after r rounds, one per seed and the same for every source), fit the value
model as the tabular search does, build the default pool, pick K, and look every
candidate up. A "hit" is a candidate better than the best child of the history: what a
round needs to move the search.

    python benchmarks/pool_origins.py [--datasets cora citeseer snapbench] [--seeds 10]

Writes benchmarks/results/pool_origins.csv (per dataset and origin: share of the pool,
hit rate in the pool, share of the K picked, hit rate of the picks, the model's Kendall
tau within the origin) and pool_origins_states.csv (per search state and origin).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import nasbench_graph
import numpy as np
import pandas as pd
import snapbench
import torch
from budget import VALUE_MODEL_HELP, demo_value_model
from machine import machine
from summary import publish

from autosnap.search.candidates import scored_pool, select
from autosnap.search.compare import kendall
from autosnap.search.config import ValueModelConfig
from autosnap.search.tabular import Lookup, fit_round, run_search, tabular_search_config

HERE = Path(__file__).resolve().parent


def table_of(dataset: str) -> Lookup:
    """A NAS-Bench-Graph dataset, or `snapbench` (the committed SNAP-Bench table)."""
    if dataset == "snapbench":
        return snapbench.lookup(pd.read_parquet(snapbench.TABLE))
    return nasbench_graph.lookup(dataset)[0]


def states(dataset: str, seed: int, at: list[int], k: int, vm: ValueModelConfig,
           candidates: int) -> list[dict]:  # fmt: skip
    """Per round r in `at` and origin: what the default pool held and what was picked,
    on the history of an evolution search after round r."""
    torch.set_num_threads(1)
    table = table_of(dataset)
    g = table.grammar
    history = [{"round": q.round, "snap": q.snap, "value": q.value}
               for q in run_search(table, "evolution", seed, max(at) + 1, k, vm)]  # fmt: skip
    hist = pd.DataFrame(history)
    hist["snap_id"] = [g.key(s.split()) for s in hist["snap"]]
    hist = hist.assign(status="ok", origin="evolution", slot=hist.groupby("round").cumcount())
    cfg = tabular_search_config("autosnap", seed, max(at) + 2, k, g.max_len, table.min_len,
                                candidates=candidates)  # fmt: skip
    out = []
    for r in at:
        h = hist[hist["round"] <= r].reset_index(drop=True)
        known = set(h["snap_id"])
        model = fit_round(table, h, replace(vm, seed=seed), r)  # as the search fits
        cands, _ = scored_pool(h, cfg, k, r + 1, model, g, known)
        picked = set(select(cands, k, cfg.per_parent).index)
        cands["value"] = [table.values[str(i)][0] for i in cands["snap_id"]]
        cands["hit"] = cands["value"] > h["value"].max()
        cands["picked"] = cands.index.isin(picked)
        for origin, c in cands.groupby("origin"):
            p = c[c["picked"]]
            out.append({"dataset": dataset, "seed": seed, "round": r, "origin": origin,
                        "candidates": len(c), "hits": int(c["hit"].sum()),
                        "picked": len(p), "picked_hits": int(p["hit"].sum()),
                        "picked_value": p["value"].mean() if len(p) else np.nan,
                        "tau": kendall(c["predicted_value"], c["value"])})  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["cora", "citeseer", "snapbench"])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--at", type=int, nargs="+", default=[1, 3, 5],
                    help="rounds after which the pool is built")  # fmt: skip
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--candidates", type=int, default=200)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--value-model", help=VALUE_MODEL_HELP)
    args = ap.parse_args()
    vm = demo_value_model(args.value_model)
    start = time.perf_counter()
    jobs = [(d, s) for d in args.datasets for s in range(args.seeds)]
    with ProcessPoolExecutor(args.cores) as ex:
        futs = [ex.submit(states, d, s, args.at, args.k, vm, args.candidates) for d, s in jobs]
        rows = [row for f in futs for row in f.result()]
    per_state = pd.DataFrame(rows)
    out = Path(args.out)
    per_state.to_csv(out / "pool_origins_states.csv", index=False, float_format="%.5f")
    g = per_state.groupby(["dataset", "origin"])
    tot = per_state.groupby("dataset")[["candidates", "picked"]].sum()
    summary = g[["candidates", "hits", "picked", "picked_hits"]].sum().reset_index()
    summary["pool_share"] = summary["candidates"] / summary["dataset"].map(tot["candidates"])
    summary["pool_hit_rate"] = summary["hits"] / summary["candidates"]
    summary["picked_share"] = summary["picked"] / summary["dataset"].map(tot["picked"])
    summary["picked_hit_rate"] = summary["picked_hits"] / summary["picked"].replace(0, np.nan)
    summary["tau"] = g["tau"].mean().to_numpy()
    summary["states"] = g.size().to_numpy()
    summary["machine"] = machine()
    print(f"{len(jobs)} search states x {len(args.at)} rounds in "
          f"{time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    publish(summary.round(4), out, "pool_origins")


if __name__ == "__main__":
    main()
