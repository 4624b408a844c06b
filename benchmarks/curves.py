"""The one regret-curve figure the strategy benchmarks share: mean ± sd over seeds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def plot_regret(panels: list[tuple[pd.DataFrame, str, str]], path: Path) -> None:
    """One panel per (frame, title, y label): a line per strategy of the frame (columns
    strategy, queries, regret) with its spread over seeds, on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (df, title, ylabel) in zip(axes[0], panels, strict=True):
        for strategy, g in df.groupby("strategy"):
            stats = g.groupby("queries")["regret"].agg(["mean", "std"])
            ax.plot(stats.index, stats["mean"], label=strategy)
            ax.fill_between(stats.index, stats["mean"] - stats["std"],
                            stats["mean"] + stats["std"], alpha=0.2)  # fmt: skip
        ax.set_title(title)
        ax.set_xlabel("queries (children trained)")
        ax.set_ylabel(ylabel)
        ax.set_yscale("log")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
