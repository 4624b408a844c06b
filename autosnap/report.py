"""The search report: figures a person reads at a glance, each with its table.

Writes into one folder: PNG figures, CSV tables behind them, and index.html that shows
both (open it in a browser; `snakemake --report` packs the same files)."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from autosnap.draw import draw_block  # noqa: E402
from autosnap.snap import Snap  # noqa: E402
from autosnap.strategies import evaluated  # noqa: E402

ORIGIN_COLOURS = {"random": "#999999", "ascent": "#d62728", "mutation": "#ff7f0e",
                  "evolution": "#2ca02c", "cli": "#1f77b4"}  # fmt: skip


def progress_table(history: pd.DataFrame) -> pd.DataFrame:
    """One row per child in training order, with the best value so far."""
    df = history.sort_values(["round", "slot"]).reset_index(drop=True)
    df.insert(0, "child", np.arange(1, len(df) + 1))
    df["best_so_far"] = df["value"].where(df["status"] == "ok").cummax()
    return df


def plot_progress(table: pd.DataFrame, path: Path) -> Path:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for origin, g in table[table["status"] == "ok"].groupby("origin"):
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(g))
        ax1.scatter(g["round"] + jitter, g["value"], s=18, label=origin,
                    color=ORIGIN_COLOURS.get(origin, "#1f77b4"))  # fmt: skip
    failed = table[table["status"] != "ok"]
    if len(failed):
        ax1.scatter(failed["round"], np.full(len(failed), table["value"].min()), marker="x",
                    color="black", label=f"failed ({len(failed)})")  # fmt: skip
    ax1.set_xlabel("round")
    ax1.set_ylabel("value = −log10(landmark error mm), validation")
    ax1.set_title("every child by round")
    ax1.legend(fontsize=8)
    ax2.plot(table["child"], table["best_so_far"], drawstyle="steps-post", color="#d62728")
    ax2.set_xlabel("children trained")
    ax2.set_ylabel("best value so far")
    ax2.set_title("search progress")
    for _, g in table.groupby("round"):
        ax2.axvline(g["child"].min() - 0.5, color="#cccccc", lw=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_predictor(metrics: pd.DataFrame, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for col, label in (
        ("kendall_tau", "Kendall tau (held out)"),
        ("spearman_rho", "Spearman rho (held out)"),
        ("recon_acc", "reconstruction"),
    ):
        ax.plot(metrics["round"], metrics[col], "o-", label=label)  # fmt: skip
    ax.axhline(0, color="#999999", lw=0.8)
    ax.set_xlabel("round (model fitted after it)")
    ax.set_ylim(-1, 1.05)
    ax.set_title("value model quality")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_final(summary: pd.DataFrame, path: Path) -> Path:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ok = summary[summary["seeds_ok"] > 0]
    colours = ["#d62728" if c.startswith("best") else "#1f77b4" for c in ok["candidate"]]
    ax1.bar(ok["candidate"], ok["landmark_err_mm_mean"], yerr=ok["landmark_err_mm_std"].fillna(0),
            color=colours, capsize=4)  # fmt: skip
    ax1.set_ylabel("landmark error on test (mm), mean ± sd over seeds")
    ax1.set_title("final comparison (red: found, blue: baselines)")
    ax2.errorbar(ok["params"], ok["landmark_err_mm_mean"], yerr=ok["landmark_err_mm_std"].fillna(0),
                 fmt="none", ecolor="#999999")  # fmt: skip
    ax2.scatter(ok["params"], ok["landmark_err_mm_mean"], c=colours)
    for _, r in ok.iterrows():
        ax2.annotate(r["candidate"], (r["params"], r["landmark_err_mm_mean"]), fontsize=8,
                     xytext=(4, 4), textcoords="offset points")  # fmt: skip
    ax2.set_xscale("log")
    ax2.set_xlabel("parameters")
    ax2.set_ylabel("landmark error (mm)")
    ax2.set_title("error vs size")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_best_blocks(history: pd.DataFrame, path: Path, n: int = 3) -> tuple[Path, pd.DataFrame]:
    best = evaluated(history).sort_values("value", ascending=False).head(n)
    fig, axes = plt.subplots(1, max(len(best), 1), figsize=(4 * max(len(best), 1), 6))
    axes = np.atleast_1d(axes)
    for ax, (_, r) in zip(axes, best.iterrows(), strict=False):
        title = f"{r['snap']}\nvalue {r['value']:.3f}, {r['landmark_err_mm']:.3f} mm"
        draw_block(Snap.parse(r["snap"], 64), ax, title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path, best[["snap", "snap_id", "value", "landmark_err_mm", "params", "macs"]]


def write_report(
    history: pd.DataFrame,
    fit_metrics: pd.DataFrame | None,
    summary: pd.DataFrame,
    out_dir: str | Path,
    data_examples: str | Path | None = None,
) -> Path:
    """All figures and tables into `out_dir`, plus index.html showing them."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sections: list[tuple[str, str, pd.DataFrame]] = []
    prog = progress_table(history)
    plot_progress(prog, out / "progress.png")
    prog.drop(columns=["error"]).to_csv(out / "progress.csv", index=False)
    sections.append(("Search progress", "progress", prog.drop(columns=["error"])))
    if fit_metrics is not None and len(fit_metrics):
        plot_predictor(fit_metrics, out / "predictor.png")
        fit_metrics.to_csv(out / "predictor.csv", index=False)
        sections.append(("Value model per round", "predictor", fit_metrics))
    _, best = plot_best_blocks(history, out / "best_blocks.png")
    best.to_csv(out / "best_blocks.csv", index=False)
    sections.append(("Best blocks found", "best_blocks", best))
    plot_final(summary, out / "final.png")
    summary.to_csv(out / "final.csv", index=False)
    sections.append(("Final comparison on the test split", "final", summary))
    parts = ["<html><head><meta charset='utf-8'><title>autosnap report</title><style>"
             "body{font-family:sans-serif;max-width:1200px;margin:auto} table{font-size:12px;"
             "border-collapse:collapse} td,th{border:1px solid #ccc;padding:2px 6px}</style>"
             "</head><body><h1>autosnap search report</h1>"]  # fmt: skip
    if data_examples:
        parts.append(f"<h2>Data</h2><img src='{html.escape(str(data_examples))}' width='100%'>")
    for title, stem, table in sections:
        parts.append(f"<h2>{title}</h2><img src='{stem}.png' style='max-width:100%'>")
        parts.append(f"<p><a href='{stem}.csv'>{stem}.csv</a></p>")
        parts.append(table.head(50).to_html(index=False, float_format=lambda v: f"{v:.4g}"))
    parts.append("</body></html>")
    index = out / "index.html"
    index.write_text("\n".join(parts))
    return index
