"""benchmarks/results/SUMMARY.md: one line per headline number, from the tables.

Every benchmark calls write_summary() when it has written its tables, so the summary
never disagrees with them; `python benchmarks/summary.py` rewrites it on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from variants import CHANGES, VARIANTS

HERE = Path(__file__).resolve().parent

Row = tuple[str, str, str]  # (what, figure, machine)


def _throughput(r: pd.Series) -> Row:
    cl = "channels-last" if r["channels_last"] else "contiguous"
    return (f"training img/s, ours / plain loop, {r['size']}, {cl}", f"{r['ratio']:.2f}x",
            r["machine"])  # fmt: skip


def _overhead(r: pd.Series) -> Row:
    return (f"wall per child, {r['mode']} / in-process ({r['children']} children, chunk "
            f"{r['chunk']})", f"{r['ratio']:.2f}x ({r['per_child_s']:.2f} s vs "
            f"{r['inprocess_per_child_s']:.2f} s; {r['not_training']:.0%} not training)",
            r["machine"])  # fmt: skip


def _slurm(r: pd.Series) -> Row:
    label = f" ({r['label']})" if isinstance(r["label"], str) and r["label"] else ""
    return (f"smoke search through Slurm / locally{label}", f"{r['ratio']:.2f}x "
            f"({r['slurm_s']:.0f} s vs {r['local_s']:.0f} s, {r['slurm_jobs']} Slurm jobs)",
            r["machine"])  # fmt: skip


def _dag(r: pd.Series) -> Row:
    return (f"snakemake -n, {r['children']} children, chunk {r['chunk']} ({r['jobs']} jobs), "
            f"groups {r['groups']}", f"{r['seconds']:.1f} s, {r['max_rss_mb']:.0f} MB",
            r["machine"])  # fmt: skip


def _search(r: pd.Series) -> Row:
    return (f"best val value after {r['children']} children, {r['strategy']} ({r['seeds']} "
            f"seeds, {r['config']})", f"{r['best_value_mean']:.3f} ± {r['best_value_std']:.3f} "
            f"({r['best_err_mm_mean']:.3f} mm)", r["machine"])  # fmt: skip


def _predict(r: pd.Series) -> Row:
    return (f"median pose error after {r['iteration']} predict iteration(s), {r['frames']} "
            f"frames, {r['architecture']}", f"{r['position_err_mm_median']:.2f} mm, "
            f"{r['angle_err_deg_median']:.2f} deg", r["machine"])  # fmt: skip


def _nasbench(r: pd.Series) -> Row:
    return (f"test acc of best-val arch, {r['dataset']}, {r['strategy']} ({r['queries']} "
            f"queries, {r['seeds']} seeds)", f"{r['test_mean']:.4f} ± {r['test_std']:.4f}",
            "2 CPU cores (x86_64)")  # fmt: skip


def _i3posnet(r: pd.Series) -> Row:
    return (f"test landmark error, i3PosNet setting on a real CT, {r['candidate']} "
            f"({r['snap']}, {r['seeds_ok']} seeds)", f"{r['landmark_err_mm_mean']:.3f} ± "
            f"{r['landmark_err_mm_std']:.3f} mm ({r['landmark_err_vs_i3posnet']:.2f}x i3posnet, "
            f"{r['params']:.0f} params)", r["machine"])  # fmt: skip


def _origins(r: pd.Series) -> Row:
    picked = (f"{r['picked_hit_rate']:.0%} of its {r['picked']} picks hit"
              if r["picked"] else "never picked")  # fmt: skip
    return (f"scored pool on {r['dataset']}, {r['origin']} candidates ({r['states']} search "
            f"states)", f"{r['picked_share']:.0%} of the picks, {picked}; {r['pool_hit_rate']:.1%} "
            f"of {r['candidates']} in the pool; tau {r['tau']:.2f}", r["machine"])  # fmt: skip


def _timing(t: pd.DataFrame) -> list[Row]:
    """Value-model fit and latent-ascent propose per round of each autosnap variant,
    medians over the table."""
    rows = []
    machine = t["machine"].iloc[0]
    for name in sorted(v for v in t["strategy"].unique() if v in VARIANTS):
        auto = t[t["strategy"] == name]
        if not auto["fit_s"].notna().any():
            continue
        propose = auto[auto["round"] > 0]["propose_s"]
        rows += [
            (f"value-model fit per round ({name})", f"{auto['fit_s'].median():.1f} s median",
             machine),
            (f"latent-ascent propose per round ({name})", f"{propose.median():.2f} s median",
             machine),
        ]  # fmt: skip
    return rows


def _noise(r: pd.Series) -> Row:
    return (f"value's sd between {r['children']} children / within one architecture "
            f"({r['retrained']} bests, {r['fresh_seeds']} fresh training seeds)",
            f"{r['ratio']:.2f} ({r['between_sd']:.3f} / {r['within_sd']:.3f}); best's value "
            f"{r['winners_curse']:+.3f} over its retrained mean", r["machine"])  # fmt: skip


def _retrained(r: pd.Series) -> Row:
    how = "retrained on fresh seeds" if r["measure"] == "retrained_mean" else "as selected"
    return (f"each search's best, {how}: {r['a']} vs {r['b']} ({r['seeds']} seeds)",
            f"{r['wins']}/{r['ties']}/{r['losses']}, p = {r['p']:.2g}", "")  # fmt: skip


def _each(row: Callable[[pd.Series], Row]) -> Callable[[pd.DataFrame], list[Row]]:
    """A table's summary rows: one per table row."""
    return lambda df: [row(r) for _, r in df.iterrows()]


#: Table file -> (benchmark, its summary rows), in the summary's order.
TABLES = {
    "child_throughput.csv": ("child_throughput", _each(_throughput)),
    "pipeline_overhead.csv": ("pipeline_overhead", _each(_overhead)),
    "dag_scale.csv": ("dag_scale", _each(_dag)),
    "slurm_overhead.csv": ("slurm_overhead", _each(_slurm)),
    "search_efficiency_final.csv": ("search_efficiency", _each(_search)),
    "search_efficiency_timing.csv": ("search_efficiency", _timing),
    "retrained_noise.csv": ("retrained_best", _each(_noise)),
    "retrained_pairs.csv": ("retrained_best", _each(_retrained)),
    "predict_iterations.csv": ("predict_iterations", _each(_predict)),
    "nasbench_graph_final.csv": ("nasbench_graph", _each(_nasbench)),
    "pool_origins.csv": ("pool_origins", _each(_origins)),
    "i3posnet_final.csv": ("i3posnet", _each(_i3posnet)),
}


def _rows(results: Path) -> list[tuple[str, str, str, str]]:
    """(benchmark, what, figure, machine) for each table that exists."""
    rows = []
    for name, (bench, summarise) in TABLES.items():
        if (results / name).exists():
            rows += [(bench, *r) for r in summarise(pd.read_csv(results / name))]
    return rows


def _protocol_sections(results: Path) -> list[str]:
    """Every strategy comparison's protocol tables (autosnap.search.compare), in full:
    validation regret per strategy, the paired tests, the predictor's mean taus, and
    #15's ablation table from the same three tables."""
    lines: list[str] = []
    for regret_path in sorted(results.glob("*_regret.csv")):
        name = regret_path.name.removesuffix("_regret.csv")
        regret = pd.read_csv(regret_path).drop(columns="machine", errors="ignore")
        lines += ["", f"## {name}: the comparison protocol", "",
                  "Validation regret (mean, sd over seeds) at the protocol's query counts:", "",
                  regret.to_markdown(index=False, floatfmt=".4g")]  # fmt: skip
        pairs_path = results / f"{name}_pairs.csv"
        pairs = pd.read_csv(pairs_path) if pairs_path.exists() else None
        if pairs is not None:
            lines += ["", "Paired Wilcoxon signed-rank tests (wins / ties / losses of a vs b):",
                      "", pairs.to_markdown(index=False, floatfmt=".3g")]  # fmt: skip
        pred_path = results / f"{name}_predictor.csv"
        pred = pd.read_csv(pred_path) if pred_path.exists() else pd.DataFrame()
        if not pred.empty:
            keys = [c for c in ("dataset", "strategy") if c in pred.columns]
            # the table's top 10 % only where there is a table (not on the demo task)
            taus = [c for c in ("tau_next", "tau_top10") if c in pred.columns]
            means = pred.groupby(keys)[taus].mean().reset_index()
            lines += ["", "Value model's Kendall tau, mean over rounds (next round's children"
                      + ("; table's top 10 %" if "tau_top10" in taus else "") + "):", "",
                      means.to_markdown(index=False, floatfmt=".3f")]  # fmt: skip
        if pairs is not None:
            lines += _ablation(regret, pairs, pred)
    return lines


def _versus(pairs: pd.DataFrame, a: str, b: str, queries: int) -> str:
    """Wins/ties/losses and p of `a` against `b` at `queries`, as "W/T/L, p" (either
    order in the pairs table)."""
    for x, y, flip in ((a, b, False), (b, a, True)):
        hit = pairs[(pairs["a"] == x) & (pairs["b"] == y) & (pairs["queries"] == queries)]
        if not hit.empty:
            r = hit.iloc[0]
            w, l_ = (r["losses"], r["wins"]) if flip else (r["wins"], r["losses"])
            return f"{w}/{r['ties']}/{l_}, {r['p']:.2g}"
    return ""


def _ablation(regret: pd.DataFrame, pairs: pd.DataFrame, pred: pd.DataFrame) -> list[str]:
    """#15's ablation table from a benchmark's regret, pairs and predictor tables: today's
    autosnap, then one component more per row (benchmarks/variants.py), against evolution
    and random by the protocol."""
    groups = regret.groupby("dataset") if "dataset" in regret.columns else [("", regret)]
    rows = []
    for dataset, reg in groups:
        pr = pairs[pairs["dataset"] == dataset] if dataset else pairs
        present = [v for v in VARIANTS if v in set(reg["strategy"])]
        for i, v in enumerate(present):
            base = CHANGES.get(v, present[i - 1] if i else "")
            base = base if base in present else ""
            at = reg[reg["strategy"] == v].set_index("queries")
            tau = pred[pred["strategy"] == v] if not pred.empty else pred
            if dataset and not tau.empty:
                tau = tau[tau["dataset"] == dataset]
            rows.append({
                **({"dataset": dataset} if dataset else {}), "variant": v,
                "seeds": int(at["seeds"].min()),
                **{f"regret@{q}": f"{at.at[q, 'regret_mean']:.4f} ± {at.at[q, 'regret_sd']:.4f}"
                   for q in at.index},
                **{f"vs evolution @{q}": _versus(pr, v, "evolution", q) for q in at.index},
                **{f"vs random @{q}": _versus(pr, v, "random", q) for q in at.index},
                "changes": base,
                **{f"vs changed @{q}": _versus(pr, v, base, q) if base else ""
                   for q in at.index},
                "next-round tau": f"{tau['tau_next'].mean():.2f}" if not tau.empty else "",
            })  # fmt: skip
    if not rows:
        return []
    return ["", "Ablation (issue #15): the variants of `benchmarks/variants.py` in order, each "
            "adding its component to those before it, `-beta` and `-ucb` taking one back, "
            "`+credit` changing how the pool alone picks; `changes`: the variant the row is "
            "compared with (the row above, or `variants.CHANGES`; a variant not yet run has no "
            "row, so it may be more than one step back); W/T/L of the row against "
            "evolution, random and the variant it changes, paired Wilcoxon p; next-round tau: "
            "the value model's Kendall tau on the next round's children, mean over rounds:", "",
            pd.DataFrame(rows).to_markdown(index=False)]  # fmt: skip


def write_summary(results: str | Path = HERE / "results") -> Path:
    results = Path(results)
    lines = ["# Benchmark summary", "",
             "Generated by `python benchmarks/summary.py` (every benchmark runs it) from the",
             "tables in this folder; compare figures only within one machine.", "",
             "| benchmark | what | figure | machine |", "|---|---|---|---|"]  # fmt: skip
    lines += [f"| {b} | {w} | {f} | {m} |" for b, w, f, m in _rows(results)]
    lines += _protocol_sections(results)
    out = results / "SUMMARY.md"
    out.write_text("\n".join(lines) + "\n")
    return out


def publish(table: pd.DataFrame, results: str | Path, name: str) -> Path:
    """Write a benchmark's table as `{name}.csv`, show it, and refresh SUMMARY.md."""
    path = Path(results) / f"{name}.csv"
    table.to_csv(path, index=False)
    print(table.to_string(index=False))
    write_summary(results)
    return path


if __name__ == "__main__":
    print(write_summary())
