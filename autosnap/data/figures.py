"""Data pictures: example patches with their landmarks, the full detector image, and the
anatomy backgrounds alone.

Drawn by the prepare-data stage after the tables are written (make_dataset only renders)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from autosnap.data.dataset import Renderer  # noqa: E402
from autosnap.data.patches import patch_grid  # noqa: E402
from autosnap.sim.fluoro import Pose  # noqa: E402


def display(image: np.ndarray) -> np.ndarray:
    """Fluoroscopy display: log of the transmitted fraction, from the 1st percentile
    (bright) to the maximum (black), so the small metal instrument is never clipped into
    the darkest anatomy (metal dark, soft tissue bright, as on a C-arm monitor)."""
    att = -np.log(np.clip(image, 1e-6, None))
    lo, hi = np.percentile(att, 1), att.max()
    return np.clip((hi - att) / max(hi - lo, 1e-6), 0, 1)


def save(fig: plt.Figure, path: str | Path) -> Path:
    """Lay out, write (creating the folder) and close a figure: the data and report figures."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")  # keeps a legend below the axes
    plt.close(fig)
    return path


LANDMARK_COLOURS = ["#e41a1c", "#ff7f00", "#ffff33", "#4daf4a", "#377eb8", "#984ea3"]


def draw_landmarks(ax: plt.Axes, landmarks: np.ndarray, marker: str = "o", **kw) -> None:
    """Six landmarks (6, 2) in (col, row), coloured by index, the axis points joined."""
    axis = landmarks[[3, 0, 1, 2]]
    ax.plot(axis[:, 0], axis[:, 1], "-", color="white", lw=0.6, alpha=0.7)
    ax.scatter(landmarks[:, 0], landmarks[:, 1], c=LANDMARK_COLOURS, s=14, marker=marker, **kw)


#: The six pseudo-landmarks in the instrument frame (mm), in the order of the colours.
LANDMARK_NAMES = ("(0, 0) reference point", "(1.5, 0)", "(3, 0) towards the tip", "(-1.5, 0)",
                  "(0, 1.5)", "(0, -1.5)")  # fmt: skip


def landmark_legend(fig: plt.Figure) -> None:
    """A key to the landmark colours, below the figure."""
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=name)
               for c, name in zip(LANDMARK_COLOURS, LANDMARK_NAMES, strict=True)]  # fmt: skip
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=6,
               fontsize=8, frameon=False, title="landmarks (instrument frame, mm)",
               title_fontsize=8)  # fmt: skip


def data_examples(
    renderer: Renderer, table: pd.DataFrame, path: str | Path, seed: int = 0, n: int = 12
) -> Path:
    """A full detector image with the outline of its patch, and `n` patches with their
    true landmarks (red: reference point; the line joins the on-axis landmarks)."""
    first = table.iloc[0]
    pose = Pose(first.x_mm, first.y_mm, first.z_mm, first.angle_deg, first.tilt_deg)
    full = renderer.full_image(np.random.default_rng(seed), first.instrument, pose)
    mm = renderer.cfg.geometry.mm_per_px(0.0)
    title = (f"simulated fluoroscopy ({first.instrument}), {full.shape[0]}x{full.shape[1]} px, "
             f"{mm:.2f} mm/px at isocentre")  # fmt: skip
    landmarks = renderer.cfg.geometry.project(pose.landmarks_3d())
    return examples_figure(full, landmarks, title, table, path, n)


def examples_figure(
    full: np.ndarray, landmarks: np.ndarray, title: str, table: pd.DataFrame, path: str | Path,
    n: int = 12, outline: bool = True,
) -> Path:  # fmt: skip
    """The figure of data_examples for any data set: `full`, a full image, with its true
    `landmarks` (image pixels) and, with `outline`, the outline of the table's first patch
    (cut from `full`), and `n` patches of the table with their landmarks."""
    first = table.iloc[0]
    cols = 4
    rows = int(np.ceil(n / cols))
    fig = plt.figure(figsize=(4 + 3 * cols, max(4, 1.8 * rows)))
    grid = fig.add_gridspec(rows, cols + 2)
    ax = fig.add_subplot(grid[:, :2])
    ax.imshow(display(full), cmap="gray")
    if outline:
        corners = patch_grid(
            (first.est_col, first.est_row), first.est_angle_deg, (first.height, first.width)
        )[[0, 0, -1, -1, 0], [0, -1, -1, 0, 0]]
        ax.plot(corners[:, 0], corners[:, 1], "-", color="#00c0ff", lw=1.2)
        title += "\nblue: patch cut around the perturbed estimate"
    draw_landmarks(ax, landmarks)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    landmark_legend(fig)
    for k in range(min(n, len(table))):
        r = table.iloc[k]
        img = np.frombuffer(r.image, dtype=np.float32).reshape(r.height, r.width)
        a = fig.add_subplot(grid[k // cols, 2 + k % cols])
        a.imshow(display(img), cmap="gray")
        draw_landmarks(a, np.asarray(r.landmarks).reshape(6, 2))
        tilt = "" if np.isnan(r.tilt_deg) else f" tilt {r.tilt_deg:+.0f}°"
        a.set_title(f"{r.instrument}{tilt} {r.mm_per_px:.2f} mm/px", fontsize=7)
        a.axis("off")
    return save(fig, path)


def anatomy_figure(
    renderer: Renderer, path: str | Path, overview: np.ndarray | None = None, n: int = 4
) -> Path:
    """The first `n` backgrounds of the bank as transmitted intensity, the project's one
    convention (bone and metal dark, lung and air bright, as the network sees them),
    after `overview` (a CT's whole-volume projection, sim.anatomy.ct_overview) when
    there is one: the check that a CT is projected the right way round, head up, spine
    down the middle and ribs across."""
    cfg = renderer.cfg
    source = "procedural phantom" if cfg.anatomy == "procedural" else Path(cfg.anatomy).name
    panels = [(f"background {k}", renderer.bank[k]) for k in range(min(n, len(renderer.bank)))]
    if overview is not None:
        panels.insert(0, ("whole volume, unrotated", overview))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False)
    for ax, (title, att) in zip(axes[0], panels, strict=True):
        lo, hi = np.percentile(att, [0.5, 99.5])
        ax.imshow(np.clip((hi - att) / max(hi - lo, 1e-6), 0, 1), cmap="gray")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    mm = cfg.geometry.mm_per_px(0.0)
    size = f"{cfg.geometry.height}x{cfg.geometry.width} px"
    fig.suptitle(f"anatomy: {source}, {size} at {mm:.2f} mm/px (transmitted intensity: "
                 "bone dark, lung bright)", fontsize=9)  # fmt: skip
    return save(fig, path)


def poses_figure(images: list[tuple[str, np.ndarray, np.ndarray, str]], path: str | Path,
                 cols: int = 4) -> Path:  # fmt: skip
    """Whole images with the pose table's landmarks drawn on them (name, image,
    landmarks (6, 2), instrument): the check `autosnap data check` asks a user to look
    at before a long run. A wrong angle convention or pixel size shows at once."""
    rows = int(np.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (name, image, landmarks, instrument) in zip(axes.ravel(), images, strict=False):
        ax.imshow(display(image), cmap="gray")
        draw_landmarks(ax, landmarks)
        ax.set_title(f"{name} ({instrument})", fontsize=8)
    fig.suptitle("pose table on its images: (0, 0) red, the axis towards the tip through "
                 "orange and yellow", fontsize=9)  # fmt: skip
    landmark_legend(fig)
    return save(fig, path)
