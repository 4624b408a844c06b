"""Block diagrams: a SNAP drawn as the graph it builds, for reading at a glance."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from autosnap.space.snap import SYMBOLS, Snap  # noqa: E402

COLOURS = {
    "x": "#dddddd",
    "c1": "#9ecae1",
    "c3": "#6baed6",
    "s3": "#a1d99b",
    "s5": "#74c476",
    "d3": "#c6dbef",
    "mp": "#fdd0a2",
    "ap": "#fdae6b",
    "add": "#fcbba1",
    "cat": "#fb6a4a",
}
LABELS = {"x": "input", "add": "+ add", "cat": "cat + 1x1"}


def layout(snap: Snap) -> list[tuple[float, float]]:
    """(x, y) per DAG node: y is the longest path from the input, x spreads each level."""
    nodes = snap.dag.nodes
    level = [0] * len(nodes)
    for i, n in enumerate(nodes):
        if n.inputs:
            level[i] = 1 + max(level[j] for j in n.inputs)
    by_level: dict[int, list[int]] = {}
    for i, lv in enumerate(level):
        by_level.setdefault(lv, []).append(i)
    pos: list[tuple[float, float]] = [(0.0, 0.0)] * len(nodes)
    for lv, members in by_level.items():
        for k, i in enumerate(members):
            pos[i] = (k - (len(members) - 1) / 2, -float(lv))
    return pos


def draw_block(snap: Snap, ax: Axes, title: str | None = None) -> None:
    """Draw the block of `snap` into `ax`: boxes per operation, arrows for tensors."""
    nodes = snap.dag.nodes
    pos = layout(snap)
    for i, n in enumerate(nodes):
        for k, j in enumerate(n.inputs):
            # Bend edges that skip a level or repeat an input so they do not hide others.
            skips = pos[j][1] - pos[i][1] > 1
            twin = n.inputs.count(j) > 1
            rad = (0.3 if k == 0 else -0.3) if twin else (0.3 if skips else 0.0)
            ax.annotate(
                "",
                xy=pos[i],
                xytext=pos[j],
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": "#444444",
                    "shrinkA": 12,
                    "shrinkB": 12,
                    "connectionstyle": f"arc3,rad={rad}",
                },
            )
    for i, n in enumerate(nodes):
        label = LABELS.get(n.op, n.op)
        if n.op in SYMBOLS and n.op not in LABELS:
            label = f"{n.op}\n{SYMBOLS[n.op].doc.split(',')[0]}"
        ax.text(
            *pos[i],
            label,
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.4", "fc": COLOURS.get(n.op, "white"), "ec": "#333333"},
        )
    out_x, out_y = pos[-1]
    ax.annotate(
        "",
        xy=(out_x, out_y - 0.6),
        xytext=(out_x, out_y),
        arrowprops={"arrowstyle": "-|>", "color": "#444444", "shrinkA": 12},
    )
    ax.text(out_x, out_y - 0.75, "output", ha="center", va="center", fontsize=8)
    xs = [p[0] for p in pos]
    ys = [p[1] for p in pos]
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(min(ys) - 1.0, 0.6)
    ax.axis("off")
    ax.set_title(title if title is not None else f"{snap.text}\nid {snap.snap_id}", fontsize=9)


def save_block_drawing(snap: Snap, path: str | Path) -> Path:
    """Write the block diagram of `snap` to an image file (format from the suffix)."""
    pos = layout(snap)
    width = max(3.0, 1.6 * (max(p[0] for p in pos) - min(p[0] for p in pos) + 2))
    height = max(3.0, 0.9 * (1 - min(p[1] for p in pos)) + 1.2)
    fig, ax = plt.subplots(figsize=(width, height))
    try:
        draw_block(snap, ax)
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    return path
