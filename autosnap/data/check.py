"""`autosnap data check`: look at imported data before a long run.

Imports the data set exactly as the workflow will, counts images and patches per split
and instrument, draws the pose table's landmarks on a sample of the images, and warns
where the patch size does not suit the instrument at the data's pixel size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from autosnap.data.config import DataConfig
from autosnap.data.figures import poses_figure
from autosnap.data.importer import fill_spacing, import_dataset, pose_landmarks, read_image
from autosnap.data.pose_table import import_files, read_poses
from autosnap.sim.fluoro import LANDMARKS_MM
from autosnap.tables import read_table

#: The landmarks' extent in the instrument frame (mm): along the axis and across it.
ALONG_MM = float(np.abs(LANDMARKS_MM[:, 0]).max())
SPAN_MM = float(LANDMARKS_MM[:, 0].max() - LANDMARKS_MM[:, 0].min())
#: The landmarks should cover at least this share of the patch width.
MIN_SPAN_SHARE = 0.15


def patch_warnings(cfg: DataConfig, mm_per_px: pd.Series) -> list[str]:
    """Where the patch does not suit the landmarks at the data's pixel sizes: the far
    landmark or a displaced reference point outside the patch, or landmarks so small
    in it that the network sees mostly background."""
    h, w = cfg.patch_shape
    out = []
    coarse, fine = float(mm_per_px.max()), float(mm_per_px.min())
    reach = (ALONG_MM / fine, cfg.max_displacement_mm / fine)
    if reach[0] > w / 2 or reach[1] > min(h, w) / 2:
        out.append(
            f"data.patch {h}x{w} px is too small at {fine:.3g} mm/px: the landmarks reach "
            f"{reach[0]:.0f} px along the axis and a first guess may be {reach[1]:.0f} px "
            f"off, beyond the patch's half size {w / 2:.0f} x {h / 2:.0f} px; enlarge the "
            "patch or lower data.max_displacement_mm"
        )
    share = SPAN_MM / coarse / w
    if share < MIN_SPAN_SHARE:
        out.append(
            f"data.patch {h}x{w} px is large for {coarse:.3g} mm/px: the landmarks span "
            f"{SPAN_MM / coarse:.0f} px, {share:.0%} of its width; a smaller patch gives the "
            "network more of the instrument and less background"
        )
    return out


def check_data(cfg: DataConfig, out_dir: str | Path, source: str = "config", sample: int = 8
               ) -> tuple[pd.DataFrame, Path, list[str]]:  # fmt: skip
    """Import into `out_dir`; return the counts per split and instrument, the PNG of
    the poses on a sample of the images, and the warnings."""
    import_files(cfg, source)
    out = Path(out_dir)
    paths = import_dataset(cfg, out)
    table = fill_spacing(read_poses(Path(cfg.poses)), Path(cfg.images), Path(cfg.poses))
    counts = []
    for split, path in paths.items():
        patches = read_table(path, ["instrument"])
        for name, g in patches.groupby("instrument"):
            n = len(g)
            counts.append({"split": split, "instrument": name,
                           "images": n // cfg.patches_per_image, "patches": n})  # fmt: skip
    picked = table.sample(min(sample, len(table)), random_state=cfg.seed).sort_index()
    drawn = [(str(r.file), read_image(Path(cfg.images) / str(r.file), cfg.invert),
              pose_landmarks(r), str(r.get("instrument", "")))
             for _, r in picked.iterrows()]  # fmt: skip
    figure = poses_figure(drawn, out / "poses.png")
    return pd.DataFrame(counts), figure, patch_warnings(cfg, table["mm_per_px"])
