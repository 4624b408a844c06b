"""Search efficiency on our own task: autosnap vs random vs evolution, same budget.

Each strategy runs the search of a config (default: the demo, config/config.yaml) with
several search seeds, through the same stage functions the workflow calls
(autosnap.stages: propose_round, train_slots, collect, fit), in one process. A search
takes the config's budget (data, training, rounds, value-model steps:
`budget.without_additions`), so `autosnap` is AutoSNAP's engine and a variant of
variants.py adds its own components (the demo's search is `autosnap+pool+credit`).
Children go through the child cache, so an architecture two runs share (round 0 is the same random
sample for every strategy with one seed) is trained once; the training seed is fixed,
so a cached child is exactly what a fresh training would give.

    python benchmarks/search_efficiency.py [--config config/config.yaml] [--seeds 0 1 2 3 4]

Writes benchmarks/results/search_efficiency_{curves,final,timing,regret,pairs,predictor}.csv and
search_efficiency.png; a run that was stopped resumes where it stopped (work files in
benchmarks/work/search_efficiency/, with each round's times), so seeds can also run as
separate processes side by side and a last call with all of them writes the tables.
Run every strategy of a table on one machine: one machine retrains a child to the last
digit, but another gave the same round-0 children values up to 0.07 apart (2026-12-02
against 2026-12-01), so pairs across machines would compare machines.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from budget import VALUE_MODEL_HELP, value_model_section, without_additions  # noqa: E402
from curves import merge_earlier  # noqa: E402
from machine import machine  # noqa: E402
from summary import write_summary  # noqa: E402
from variants import VARIANTS, code_digest, digest, strategy_of  # noqa: E402

from autosnap import stages  # noqa: E402
from autosnap.config import load_yaml  # noqa: E402
from autosnap.data.figures import save  # noqa: E402
from autosnap.data.prepare import prepare_data  # noqa: E402
from autosnap.progress import log, setup_logging  # noqa: E402
from autosnap.report import next_round_tau  # noqa: E402
from autosnap.search import compare  # noqa: E402
from autosnap.search.config import value_model_config  # noqa: E402
from autosnap.tables import exclusive, read_table  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COLOURS = {"autosnap": "#d62728", "evolution": "#2ca02c", "random": "#777777"}
# the demo's curves count children and keep the best validation value; the protocol's
# names for them (the strategy benchmarks' curves)
PROTOCOL_NAMES = {"children": "queries", "best_value": "best_valid"}
#: Beyond the search code: the stage functions a demo search runs (run_search).
STAGES = ("stages.py",)
#: What `--add` keeps of an earlier run: a search, so seeds can be added as well as
#: strategies (seeds 10-19 to a table of seeds 0-9; a strategy's pairs are only as
#: comparable as the machines that ran them, benchmarks/README).
KEYS = ["strategy", "seed"]


def run_search(cfg: dict, name: str, seed: int, work: Path, data: Path) -> list[dict]:
    """One search of strategy or autosnap variant `name` (benchmarks/variants.py);
    returns a timing row per round. Skips what exists (resume)."""
    options, model_keys = VARIANTS.get(name, ({}, {}))
    strategy = strategy_of(name)
    search = {**cfg.get("search", {}), **options, "strategy": strategy, "seed": seed}
    value_model = {**(cfg.get("value_model") or {}), **model_keys}
    sc = stages.search_config(search)
    run = run_dir(work, name, seed)
    pretrained = None
    if value_model_config(value_model).pretrain_steps > 0:
        # once per setting, as the workflow's rule pretrain does once per run: keyed by
        # what pretraining reads (the grammar's search keys, the value model), not by seed
        setting = ({k: v for k, v in search.items() if k != "seed"}, value_model)
        pretrained = work / f"pretrained_{digest(setting)}.pt"
        if not pretrained.exists():
            stages.pretrain(search, value_model, pretrained)
    timing = []
    for r in range(sc.rounds):
        rd = run / f"round_{r}"
        prev = run / f"round_{r - 1}"
        props = rd / "proposals.parquet"
        t0 = time.perf_counter()
        proposed = not props.exists()
        if proposed:
            model = prev / "value_model.pt" if strategy == "autosnap" and r > 0 else None
            history = prev / "history.parquet" if r > 0 else None
            stages.propose_round(search, r, props, history, model, strategy)
        t1 = time.perf_counter()
        outs = [rd / "children" / f"{s}.parquet" for s in range(sc.children)]
        todo = [(s, o) for s, o in zip(range(sc.children), outs, strict=True) if not o.exists()]
        if todo:
            slots, paths = [s for s, _ in todo], [o for _, o in todo]
            stages.train_children(props, slots, paths, data, cfg.get("train"), sc.max_len,
                                  cache_dir=work / "cache")  # fmt: skip
        t2 = time.perf_counter()
        hist = rd / "history.parquet"
        stages.collect(([prev / "history.parquet"] if r > 0 else []) + outs, hist)
        fit_s = np.nan
        if strategy == "autosnap" and r < sc.rounds - 1 and not (rd / "value_model.pt").exists():
            vm, metrics = rd / "value_model.pt", rd / "value_model.parquet"
            row = stages.fit_value_model(hist, search, value_model, vm, metrics, r, pretrained)
            fit_s = row["fit_seconds"]
        row = {"strategy": name, "seed": seed, "round": r, "propose_s": t1 - t0,
               "train_s": t2 - t1, "trained": len(todo), "fit_s": fit_s}  # fmt: skip
        saved = rd / "timing.json"
        if proposed or todo or not np.isnan(fit_s) or not saved.exists():
            saved.write_text(json.dumps(row))
        timing.append(json.loads(saved.read_text()))  # a round done before keeps its times
    return timing


def searched_config(config: str | Path, value_model: str | Path | None = None) -> dict:
    """The config the searches run: `config`'s budget (`autosnap` is the engine and a
    variant adds its components), with `value_model`'s keys (`--value-model`) over it."""
    cfg = without_additions(load_yaml(config))
    if value_model:
        cfg["value_model"] = value_model_section(config, value_model)
    return cfg


def work_folder(config: str | Path, cfg: dict) -> Path:
    """The default work folder: one per config's content, so a changed config starts
    afresh."""
    return HERE / "work/search_efficiency" / f"{Path(config).stem}_{digest(cfg)}"


def run_dir(work: Path, name: str, seed: int) -> Path:
    """A search's work folder, keyed by its variant's settings and the search code too
    (`variants.code_digest`, with `autosnap/stages.py`, whose propose and fit wrappers
    the demo's searches go through), so a changed variant or search starts afresh
    instead of reusing a stale run; its children still come from the child cache."""
    return work / f"{name}_{digest((VARIANTS.get(name), code_digest(STAGES)))}_seed{seed}"


def curves(work: Path, strategies: list[str], seeds: list[int], rounds: int) -> pd.DataFrame:
    """Best validation value (and its landmark error) after each child, per search."""
    frames = []
    for strategy in strategies:
        for seed in seeds:
            run = run_dir(work, strategy, seed) / f"round_{rounds - 1}" / "history.parquet"
            hist = read_table(run).sort_values(["round", "slot"]).reset_index(drop=True)
            value = hist["value"].where(hist["status"] == "ok")
            best_at = [value[: i + 1].idxmax() if value[: i + 1].notna().any() else None
                       for i in range(len(hist))]  # fmt: skip
            frames.append(pd.DataFrame({
                "strategy": strategy, "seed": seed, "children": np.arange(1, len(hist) + 1),
                "round": hist["round"], "origin": hist["origin"], "value": value,
                "best_value": value.cummax(),
                "best_err_mm": [hist.at[j, "landmark_err_mm"] if j is not None else np.nan
                                for j in best_at],
            }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def predictor(work: Path, strategies: list[str], seeds: list[int], rounds: int) -> pd.DataFrame:
    """Per model search and round: the value model's Kendall tau on the next round's
    children (the report's own `next_round_tau`), what the model was used for."""
    frames = []
    for strategy in [s for s in strategies if strategy_of(s) == "autosnap"]:
        for seed in seeds:
            run = run_dir(work, strategy, seed)
            history = read_table(run / f"round_{rounds - 1}" / "history.parquet")
            props = pd.concat([read_table(run / f"round_{r}" / "proposals.parquet")
                               for r in range(1, rounds)])  # fmt: skip
            fits = pd.DataFrame({"round": range(rounds - 1)})
            frames.append(next_round_tau(fits, history, props).assign(strategy=strategy,
                                                                      seed=seed))  # fmt: skip
    if not frames:  # no model search: a header only, which reads back as an empty table
        return pd.DataFrame(columns=["strategy", "seed", "round", "tau_next"])
    return pd.concat(frames, ignore_index=True)


def plot(curve: pd.DataFrame, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for strategy, g in curve.groupby("strategy"):
        stats = g.groupby("children")["best_value"].agg(["mean", "std", "count"])
        x = stats.index.to_numpy()
        c = COLOURS.get(strategy)
        label = f"{strategy} ({int(stats['count'].iloc[-1])} seeds)"
        ax.plot(x, stats["mean"], color=c, label=label, drawstyle="steps-post")
        ax.fill_between(x, stats["mean"] - stats["std"].fillna(0),
                        stats["mean"] + stats["std"].fillna(0), color=c, alpha=0.15,
                        step="post")  # fmt: skip
    for r in sorted(curve["round"].unique())[1:]:
        ax.axvline(curve[curve["round"] == r]["children"].min() - 0.5, color="#ccc", lw=0.8)
    ax.set_xlabel("children trained")
    ax.set_ylabel("best validation value so far (mean ± sd)")
    ax.set_title("search efficiency on the demo task")
    ax.legend()
    save(fig, path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(ROOT / "config/config.yaml"))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--strategies", nargs="+", default=["autosnap", "random", "evolution"],
                   help=f"strategies and autosnap variants ({', '.join(VARIANTS)})")  # fmt: skip
    p.add_argument(
        "--work",
        help="work folder (default: one per config's content in "
        "benchmarks/work/search_efficiency, so a changed config starts afresh)",
    )
    p.add_argument("--out", default=str(HERE / "results"))
    p.add_argument("--from-curves", action="store_true",
                   help="no searches: apply the protocol to the committed curves")  # fmt: skip
    p.add_argument("--add", action="store_true",
                   help="keep the curves of an earlier run in --out of the strategies "
                   "and seeds this run does not make")  # fmt: skip
    p.add_argument("--value-model", help=VALUE_MODEL_HELP)
    args = p.parse_args()
    setup_logging()
    cfg = searched_config(args.config, args.value_model)
    work = Path(args.work) if args.work else work_folder(args.config, cfg)
    out = Path(args.out)
    if args.from_curves:
        protocol(pd.read_csv(out / "search_efficiency_curves.csv"), out)
        return
    data = work / "data"
    with exclusive(work / "data.lock"):  # seeds run as processes side by side render it once
        if not (data / "val.parquet").exists():
            prepare_data(cfg.get("data"), data)
    rounds = stages.search_config(cfg.get("search")).rounds
    timing = []
    start = time.perf_counter()
    for seed in args.seeds:  # seeds outermost: a stopped run has whole seeds
        for strategy in args.strategies:
            log.info("search %s seed %d (%.0f s so far)", strategy, seed,
                     time.perf_counter() - start)  # fmt: skip
            timing += run_search(cfg, strategy, seed, work, data)
    curve = curves(work, args.strategies, args.seeds, rounds)
    pred = predictor(work, args.strategies, args.seeds, rounds)
    if args.add:
        curve = merge_earlier(curve, out / "search_efficiency_curves.csv", KEYS)
        pred = merge_earlier(pred, out / "search_efficiency_predictor.csv", KEYS)
    out.mkdir(parents=True, exist_ok=True)
    curve.to_csv(out / "search_efficiency_curves.csv", index=False)
    pred.to_csv(out / "search_efficiency_predictor.csv", index=False)
    last = curve[curve["children"] == curve["children"].max()]
    final = last.groupby("strategy").agg(
        seeds=("seed", "count"), best_value_mean=("best_value", "mean"),
        best_value_std=("best_value", "std"), best_err_mm_mean=("best_err_mm", "mean"),
        best_err_mm_std=("best_err_mm", "std"),
    ).reset_index()  # fmt: skip
    final["children"] = int(curve["children"].max())
    final["config"] = Path(args.config).name + (f" + {Path(args.value_model).name}"
                                                 if args.value_model else "")  # fmt: skip
    final["machine"] = machine()
    if args.add:
        final = keep_earlier_labels(final, out / "search_efficiency_final.csv", args.strategies)
    final.to_csv(out / "search_efficiency_final.csv", index=False)
    t = pd.DataFrame(timing)
    t["machine"] = machine()
    if args.add:
        t = merge_earlier(t, out / "search_efficiency_timing.csv", KEYS)
    t.to_csv(out / "search_efficiency_timing.csv", index=False)
    plot(curve, out / "search_efficiency.png")
    print(final.to_string(index=False))
    protocol(curve, out)
    write_summary(out)


def keep_earlier_labels(final: pd.DataFrame, earlier: Path, ran: list[str]) -> pd.DataFrame:
    """`final` with the config and machine of `earlier`'s rows for the strategies not
    run now: curves copied in with --add keep the labels of the run that made them."""
    if not earlier.exists():
        return final
    before = pd.read_csv(earlier).set_index("strategy")
    kept = ~final["strategy"].isin(ran) & final["strategy"].isin(before.index)
    for col in ("config", "machine"):
        if col in before.columns:
            final.loc[kept, col] = final.loc[kept, "strategy"].map(before[col])
    return final


def protocol(curve: pd.DataFrame, out: Path) -> None:
    """autosnap.search.compare's protocol on our task. There is no table of every
    architecture, so regret is to the best value any run found; with 5 seeds the paired
    Wilcoxon cannot go below p = 0.0625: a hint, not a result."""
    df = curve.rename(columns=PROTOCOL_NAMES)
    at = sorted({int(df["queries"].max()) // 2, int(df["queries"].max())})
    reg = compare.regrets(df, float(df["best_valid"].max()), at)
    summ = compare.summary(reg)
    summ["machine"] = machine()
    summ.to_csv(out / "search_efficiency_regret.csv", index=False)
    pairs = compare.pairs(reg, first="autosnap")
    pairs.to_csv(out / "search_efficiency_pairs.csv", index=False)
    print(summ.to_string(index=False))
    print(pairs.to_string(index=False))


if __name__ == "__main__":
    main()
