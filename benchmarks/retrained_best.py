"""The demo's strategy comparison again, with each search's best retrained on fresh seeds.

`search_efficiency.py` compares strategies by the best validation value among a search's
children, each trained once with the config's training seed. That best is the value the
search was selected by, so it carries the seed's luck upwards (the winner's curse), and
whether one strategy's best beats another's is partly a draw of training seeds. This
retrains each search's best `--top` children with training seeds none was selected with
and reports, from the searches' work files (run them first, same --config and
--value-model):

- the noise: the sd of one architecture's value over the fresh seeds (pooled), against
  the sd between the searches' children at the search's seed (`autosnap.search.bench`'s
  ratio; SNAP-Bench's budget gave 3.9);
- the comparison again: each search's best child by its mean over the fresh seeds,
  W/T/L and paired Wilcoxon of every pair of strategies, beside the same for the values
  the searches selected by.

    python benchmarks/retrained_best.py --strategies autosnap+pool+credit evolution \\
        --seeds $(seq 0 19) --value-model benchmarks/hidden_64.yaml --out DIR

Retrainings go through the searches' child cache: a rerun trains nothing, and seeds can
run as processes side by side (`--seeds 0 1 2` beside `--seeds 3 4 5`) before one call
with all of them writes the tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from budget import VALUE_MODEL_HELP
from machine import machine
from search_efficiency import HERE, ROOT, run_dir, searched_config, work_folder
from summary import write_summary
from variants import digest

from autosnap import stages
from autosnap.progress import log, setup_logging
from autosnap.search import compare
from autosnap.tables import read_table, write_table
from autosnap.training.config import train_config


def histories(work: Path, strategies: list[str], seeds: list[int], rounds: int
              ) -> pd.DataFrame:  # fmt: skip
    """The successful children of every search, with its strategy and seed."""
    frames = []
    for strategy in strategies:
        for seed in seeds:
            path = run_dir(work, strategy, seed) / f"round_{rounds - 1}" / "history.parquet"
            if not path.exists():
                raise SystemExit(f"{path}: no finished search; run search_efficiency.py "
                                 f"--strategies {strategy} --seeds {seed} first")  # fmt: skip
            frames.append(read_table(path).assign(strategy=strategy, seed=seed))
    hist = pd.concat(frames, ignore_index=True)
    return hist[hist["status"] == "ok"]


def best_children(hist: pd.DataFrame, top: int) -> pd.DataFrame:
    """The `top` best children of each search (rank 1 = its best) by the value it was
    selected by; earlier children first among equal values."""
    ranked = hist.sort_values(
        ["strategy", "seed", "value", "round", "slot"],
        ascending=[True, True, False, True, True],
        kind="stable",
    )
    best = ranked.groupby(["strategy", "seed"], sort=False).head(top).copy()
    best["rank"] = best.groupby(["strategy", "seed"]).cumcount() + 1
    return best[["rank", "snap", "snap_id", "value", "strategy", "seed"]].rename(
        columns={"value": "selected_value"}).reset_index(drop=True)  # fmt: skip


def retrain(best: pd.DataFrame, cfg: dict, work: Path, train_seeds: list[int]) -> pd.DataFrame:
    """Validation value of each distinct SNAP of `best` at each training seed (columns
    `seed_<s>`), trained through the searches' child cache."""
    snaps = best.drop_duplicates("snap_id")[["snap", "snap_id"]].reset_index(drop=True)
    max_len = stages.search_config(cfg.get("search")).max_len
    # one table per set of SNAPs: processes side by side each write their own
    props = work / "retrained" / f"proposals_{digest(list(snaps['snap_id']))}.parquet"
    props.parent.mkdir(parents=True, exist_ok=True)
    table = snaps.assign(round=0, slot=range(len(snaps)), origin="cli", predicted_value=np.nan)
    write_table(table, props)
    for s in train_seeds:
        log.info("retraining %d SNAPs with training seed %d", len(snaps), s)
        outs = [work / "retrained" / f"seed{s}" / f"{i}.parquet" for i in snaps["snap_id"]]
        rows = stages.train_children(props, list(table["slot"]), outs, work / "data",
                                     cfg.get("train"), max_len, cache_dir=work / "cache",
                                     seed=s)  # fmt: skip
        snaps[f"seed_{s}"] = [r["value"] if r["status"] == "ok" else np.nan for r in rows]
    return snaps


def noise(children: pd.DataFrame, retrained: pd.DataFrame, fresh_seeds: int) -> dict:
    """Between-architecture sd (the searches' distinct children at the search seed) over the
    within-architecture sd (pooled over the fresh seeds only: a selected child's own
    seed is biased upwards; the median architecture's sd beside it, since one diverging
    training weighs on the pooled one)."""
    var = retrained["retrained_sd"] ** 2
    within = float(np.sqrt(var.mean()))
    between = float(children["value"].std())
    return {"children": len(children), "between_sd": between, "retrained": len(retrained),
            "fresh_seeds": fresh_seeds, "within_sd": within,
            "within_sd_median": float(np.sqrt(var.median())),
            "ratio": between / within}  # fmt: skip


def comparison(best: pd.DataFrame) -> pd.DataFrame:
    """Every pair of strategies by each search's best child, two ways: by the value it was
    selected by, and by its mean over the fresh seeds (higher wins; `compare.paired`)."""
    top = best[best["rank"] == 1]
    out = []
    for measure in ("selected_value", "retrained_mean"):
        reg = top.assign(regret=-top[measure], queries=0)[["strategy", "seed", "queries",
                                                           "regret"]]  # fmt: skip
        out.append(compare.pairs(reg).drop(columns="queries").assign(measure=measure))
    return pd.concat(out, ignore_index=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(ROOT / "config/config.yaml"))
    p.add_argument("--value-model", help=VALUE_MODEL_HELP)
    p.add_argument("--strategies", nargs="+", default=["autosnap", "evolution"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--top", type=int, default=1, help="children retrained per search")
    p.add_argument("--train-seeds", type=int, nargs="+", default=[1, 2, 3],
                   help="fresh training seeds (not the config's train.seed)")  # fmt: skip
    p.add_argument("--work", help="search_efficiency.py's work folder (default: its own)")
    p.add_argument("--out", default=str(HERE / "results"))
    args = p.parse_args()
    setup_logging()
    cfg = searched_config(args.config, args.value_model)
    search_seed = train_config(cfg.get("train")).seed
    if search_seed in args.train_seeds:
        raise SystemExit(f"--train-seeds: {search_seed} is train.seed, the seed the searches "
                         "selected by; give only fresh seeds")  # fmt: skip
    work = Path(args.work) if args.work else work_folder(args.config, cfg)
    rounds = stages.search_config(cfg.get("search")).rounds
    hist = histories(work, args.strategies, args.seeds, rounds)
    best = best_children(hist, args.top)
    retrained = retrain(best, cfg, work, args.train_seeds)
    fresh = [f"seed_{s}" for s in args.train_seeds]
    retrained["retrained_mean"] = retrained[fresh].mean(axis=1)
    retrained["retrained_sd"] = retrained[fresh].std(axis=1)
    best = best.merge(retrained.drop(columns="snap"), on="snap_id", how="left")
    stats = noise(hist.drop_duplicates("snap_id"), retrained, len(args.train_seeds))
    stats["winners_curse"] = float((best["selected_value"] - best["retrained_mean"]).mean())
    stats["machine"] = machine()
    pairs = comparison(best)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    best.to_csv(out / "retrained_best.csv", index=False)
    pd.DataFrame([stats]).to_csv(out / "retrained_noise.csv", index=False)
    pairs.to_csv(out / "retrained_pairs.csv", index=False)
    print(best.groupby("strategy")[["selected_value", "retrained_mean"]].agg(["mean", "std"]))
    print(pd.Series(stats).to_string())
    print(pairs.to_string(index=False))
    write_summary(out)


if __name__ == "__main__":
    main()
