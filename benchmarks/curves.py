"""The one regret-curve figure the strategy benchmarks share: mean ± sd over seeds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: strategies whose spread over seeds the figure draws
BANDS = ("evolution", "random")


def plot_regret(panels: list[tuple[pd.DataFrame, str, str]], path: Path) -> None:
    """One panel per (frame, title, y label): a line per strategy of the frame (columns
    strategy, queries, regret), on a log scale. Only the baselines (`BANDS`) draw their
    spread over seeds: it shows the noise a difference must beat, and the bands of a
    whole ablation's variants overlap into one grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from autosnap.data.figures import save

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    # one colour per strategy in every panel, though a panel may lack some strategies
    names = sorted({s for df, *_ in panels for s in df["strategy"].unique()})
    colour = dict(zip(names, plt.get_cmap("tab10").colors, strict=False))
    for ax, (df, title, ylabel) in zip(axes[0], panels, strict=True):
        for strategy, g in df.groupby("strategy"):
            stats = g.groupby("queries")["regret"].agg(["mean", "std"])
            c = colour.get(strategy, "black")
            ax.plot(stats.index, stats["mean"], label=strategy, color=c)
            if strategy in BANDS:
                ax.fill_between(stats.index, stats["mean"] - stats["std"],
                                stats["mean"] + stats["std"], alpha=0.12, color=c)  # fmt: skip
        ax.set_title(title)
        ax.set_xlabel("queries (children trained)")
        ax.set_ylabel(ylabel)
        ax.set_yscale("log")
        ax.legend()
    save(fig, path)


def merge_earlier(new: pd.DataFrame, path: Path, keys: list[str]) -> pd.DataFrame:
    """`new` plus the rows of an earlier run's table at `path` whose `keys` (strategy,
    dataset) `new` does not have: strategies and variants can then run one invocation
    at a time (`--add`) and still be compared on their paired seeds."""
    if not path.exists():
        return new
    old = pd.read_csv(path)
    have = set(new[keys].itertuples(index=False, name=None))
    keep = [tuple(r) not in have for r in old[keys].itertuples(index=False, name=None)]
    return pd.concat([old[keep], new], ignore_index=True)
