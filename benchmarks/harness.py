"""Runs an experiment: every (table, strategy, seed) search through autosnap's one round
loop (autosnap.search.loop.search) with its children looked up, then the protocol.

Each search is written to benchmarks/work/<experiment>/ as it finishes, under a key of
what its result depends on (its settings, the table, the seed and the search code), so
an interrupted run resumes and a changed setting or search never reuses a stale search.

The results folder benchmarks/results/<experiment>/ gets:
- curves.csv.gz: per search and query, the best validation value so far and its test
  value (compressed: a grid of thousands of searches writes hundreds of thousands of rows);
- endpoints.csv: both regrets per search at each budget (protocol.endpoints);
- summary.csv: their mean and sd per table, strategy and budget;
- pairs.csv: the comparisons, with W/T/L, p, Holm's p across tables, mean difference
  and its 95 % interval;
- predictor.csv: the value model's Kendall tau on the next round's children and on the
  table's top 10 %, mean per round;
- regret.png, and run.json (provenance; `resumed` counts the searches taken from the
  work folder, whose time the wall time does not hold; `search_seconds` sums every
  search's own time, across the runs that made them: the study's compute on one core;
  absent when some search was written before searches were timed).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

import autosnap
from autosnap.search import loop
from autosnap.search.rank import kendall
from autosnap.search.trace import best_so_far, proposal_tau
from autosnap.tables import atomic_write
from benchmarks import protocol, tables
from benchmarks.experiment import (
    Experiment,
    Measurement,
    check_runnable,
    search_config,
    value_model_config,
)
from benchmarks.provenance import source_run

HERE = Path(__file__).resolve().parent
#: The packages of autosnap a search runs: the loop, strategies, model and grammar.
SEARCH_CODE = ("search", "space")


def space(exp: Experiment, name: str, work: Path) -> tables.BenchTable | tables.TrainedSpace:
    """The table `name`, or with `demo` the trained space of `exp.training`."""
    if name != "demo":
        return tables.load(name)
    t = exp.training
    return tables.TrainedSpace("demo", t["data"], t["train"], t["max_len"], work / "demo")


def one_search(exp: Experiment, table_name: str, strategy: str, seed: int, work: Path) -> dict:
    """One search: its curve (a row per query) and, with a value model, one predictor row
    per fit. Top level, so a process pool can run it."""
    import torch

    torch.set_num_threads(1)
    start = time.perf_counter()
    table = space(exp, table_name, work)
    cfg = search_config(exp, strategy, seed, table.grammar.max_len, table.min_len)
    vm = value_model_config(exp, strategy)
    if isinstance(table, tables.TrainedSpace):
        key = search_key(exp, table_name, strategy, seed)
        runs = work / "runs" / f"{strategy}_seed{seed}_{key}"

        def evaluate(p: pd.DataFrame) -> pd.DataFrame:
            return table.evaluate(p, runs / f"round_{int(p['round'].iloc[0])}")

        top_seqs, top_values, test_of = [], [], {}
    else:
        lookup = table.lookup

        def evaluate(p: pd.DataFrame) -> pd.DataFrame:
            return loop.look_up(p, lookup)

        (top_seqs, top_values), test_of = table.top, lookup["test_value"]
    children, predictor = [], []
    for rnd in loop.search(cfg, vm, evaluate, table.grammar):
        children.append(rnd.children.assign(round=rnd.round))
        if predictor:  # the last fit's predictions against this round's children
            predictor[-1]["tau_next"] = proposal_tau(rnd.proposals, rnd.children)
        if rnd.model is not None:
            top = kendall(rnd.model.predict(top_seqs), top_values) if top_seqs else np.nan
            predictor.append({"round": rnd.round, "trained_on": len(rnd.history),
                              "tau_top10": top, "tau_next": np.nan})  # fmt: skip
    done = pd.concat(children, ignore_index=True)
    best = best_so_far(done)
    curve = [{"round": int(r), "queries": q, "best_valid": float(v), "test_of_best_valid": t}
             for q, (r, v, t) in enumerate(zip(
                 done["round"], best["best_so_far"].fillna(-np.inf),
                 [float(test_of.get(s, np.nan)) if isinstance(s, str) else np.nan
                  for s in best["best_snap_id"]], strict=True), start=1)]  # fmt: skip
    return {"curve": curve, "predictor": predictor,
            "seconds": round(time.perf_counter() - start, 2)}  # fmt: skip


def run(exp: Experiment, out: Path, cores: int, work: Path | None = None) -> dict:
    """Every search of `exp` (resuming finished ones from `work`), then the tables."""
    check_runnable(exp)
    work = work or HERE / "work" / exp.name
    work.mkdir(parents=True, exist_ok=True)
    jobs = [(t, s, seed) for t in exp.tables for s in exp.strategies for seed in exp.seeds]
    for t in exp.tables:  # refuses a held-back or unknown table before any search
        found = space(exp, t, work)
        if isinstance(found, tables.TrainedSpace):
            found.prepare()
    paths = {j: work / f"{j[0].replace('/', '-')}_{j[1]}_seed{j[2]}_{search_key(exp, *j)}.json"
             for j in jobs}  # fmt: skip
    todo = [j for j in jobs if not paths[j].exists()]
    print(f"{exp.name}: {len(jobs) - len(todo)} of {len(jobs)} searches done before "
          f"({work})", flush=True)  # fmt: skip
    start = time.perf_counter()
    with ProcessPoolExecutor(cores) as pool:
        running = {pool.submit(one_search, exp, *j, work): j for j in todo}
        for i, fut in enumerate(as_completed(running), 1):
            text = json.dumps(fut.result())
            atomic_write(paths[running[fut]], lambda tmp, text=text: tmp.write_text(text))
            t, s, seed = running[fut]
            print(f"{i}/{len(todo)} {t} {s} seed {seed} ({time.perf_counter() - start:.0f} s)",
                  flush=True)  # fmt: skip
    curves, predictor, seconds = [], [], []
    for (t, s, seed), path in paths.items():
        done = json.loads(path.read_text())
        keys = {"table": t, "strategy": s, "seed": seed}
        curves += [{**keys, **row} for row in done["curve"]]
        predictor += [{**keys, **row} for row in done["predictor"]]
        seconds += [done["seconds"]] if "seconds" in done else []  # older searches: untimed
    done = write_tables(exp, pd.DataFrame(curves), pd.DataFrame(predictor), out)
    timed = {"search_seconds": round(sum(seconds))} if len(seconds) == len(paths) else {}
    return {**done, "resumed": len(jobs) - len(todo), **timed}


def best_of(exp: Experiment, name: str, curves: pd.DataFrame) -> dict:
    """A table's best validation and test value; for a trained space (no table to know
    it from) the best validation value any search of the experiment found."""
    if name == "demo":
        found = curves.loc[curves["table"] == name, "best_valid"].max()
        return {"table": name, "best_valid": found, "best_test": np.nan}
    t = tables.load(name)
    return {"table": name, "best_valid": t.best_valid, "best_test": t.best_test}


def write_tables(exp: Experiment, curves: pd.DataFrame, predictor: pd.DataFrame, out: Path
                 ) -> dict:  # fmt: skip
    """The protocol's tables and figure from the curves (module docstring)."""
    out.mkdir(parents=True, exist_ok=True)
    # full precision (pairs stay exact); no time stamp in the gzip header: same bytes again
    curves.to_csv(out / "curves.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    best = pd.DataFrame([best_of(exp, t, curves) for t in exp.tables]).set_index("table")
    at = protocol.query_counts(int(curves["queries"].max()), exp.budgets)
    ends = protocol.endpoints(curves, best, at)
    ends.to_csv(out / "endpoints.csv", index=False)
    protocol.summary(ends).to_csv(out / "summary.csv", index=False, float_format="%.6g")
    pairs = protocol.holm(protocol.pairs(ends, exp.first, exp.against))
    pairs.to_csv(out / "pairs.csv", index=False, float_format="%.6g")
    if not predictor.empty:
        cols = ["trained_on", "tau_next", "tau_top10"]
        mean = predictor.groupby(["table", "strategy", "round"])[cols].mean().reset_index()
        mean.to_csv(out / "predictor.csv", index=False, float_format="%.4f")
    plot_regret(curves, best, out / "regret.png")
    return {"searches": int(curves.groupby(["table", "strategy", "seed"]).ngroups)}


def plot_regret(curves: pd.DataFrame, best: pd.DataFrame, path: Path) -> None:
    """Validation regret per query, one panel per table: the mean over seeds with a band
    of ± one standard error (what the paired comparisons test), on an axis that is
    logarithmic above 1e-3 and linear below, so a search that found the best shows 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from autosnap.data.figures import save

    names = list(best.index)
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.8), squeeze=False)
    strategies = sorted(curves["strategy"].unique())
    palette = plt.get_cmap("tab10" if len(strategies) <= 10 else "tab20").colors
    colour = {s: palette[i % len(palette)] for i, s in enumerate(strategies)}  # a grid: > 10
    for ax, name in zip(axes[0], names, strict=True):
        df = curves[curves["table"] == name]
        regret = best.at[name, "best_valid"] - df["best_valid"]
        stats = regret.groupby([df["strategy"], df["queries"]]).agg(["mean", "sem"])
        for strategy in strategies:
            if strategy not in stats.index.get_level_values(0):
                continue
            s = stats.loc[strategy]
            ax.plot(s.index, s["mean"], label=strategy, color=colour[strategy])
            ax.fill_between(s.index, (s["mean"] - s["sem"]).clip(lower=0),
                            s["mean"] + s["sem"], color=colour[strategy], alpha=0.15)  # fmt: skip
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set(title=name, xlabel="queries (children evaluated)", ylim=(0, None),
               ylabel="validation regret (mean ± se over seeds)")  # fmt: skip
    axes[0][0].legend(fontsize=8)
    save(fig, path)


def search_key(exp: Experiment, table: str, strategy: str, seed: int) -> str:
    """A short hash of what one search's result depends on."""
    settings = (exp.strategies[strategy], exp.rounds, exp.children, table, seed, code_digest())
    return digest(settings)


@functools.cache
def code_digest() -> str:
    """A hash of the search code (SEARCH_CODE) without comments, docstrings and layout:
    a change to how a search runs reruns the searches, a reworded docstring does not."""
    root = Path(autosnap.__file__).parent
    return source_digest(sorted(p for d in SEARCH_CODE for p in (root / d).rglob("*.py")), root)


def source_digest(paths: list[Path], root: Path) -> str:
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


def digest(settings: object) -> str:
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def measure(m: Measurement, out: Path, extra: tuple[str, ...] = ()) -> dict:
    """Run a measurement with its pinned arguments (and `extra`, such as the folder of
    a finished run it reads) into `out`."""
    import importlib

    module = importlib.import_module(f"benchmarks.measure.{m.measure}")
    out.mkdir(parents=True, exist_ok=True)
    module.main([*m.args, *extra, "--out", str(out)])
    done: dict = {"measure": m.measure}
    if "--run" in extra:  # the run it read: recorded with the commit that made it
        done["source_run"] = source_run(Path(extra[extra.index("--run") + 1]))
    return done
