"""An example data set in the import format: whole simulated radiographs as 16-bit PNG
files plus their pose table, exactly what a user brings (docs/own_data.md).

`resources/example_data/` (read by `config/own_data.yaml`) is made by `autosnap data
example`, and the import tests start from the same function, so the committed example
and the tested format cannot drift apart. The instrument lies in a plane parallel to the
detector (no tilt), since a pose table describes it in the image plane.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from autosnap.config import from_dict
from autosnap.data.config import SPLITS, DataConfig
from autosnap.data.dataset import Renderer, random_pose
from autosnap.data.pose import in_plane_angle
from autosnap.errors import InputError
from autosnap.tables import write_table

#: The example's imaging: 128x128 px at 0.3 mm/px at the isocentre, both instruments.
EXAMPLE_DATA = {
    "instruments": ["screw", "drill"],
    "geometry": {"detector_pixel_mm": 0.428, "height": 128, "width": 128},
    "patch": [24, 46],
    "background_bank": 4,
}
#: Decimals of the pose table's pixel and angle columns, as a hand-made table has them.
DECIMALS = 3


def split_counts(n: int) -> dict[str, int]:
    """About 70/15/15, with at least 2 images in each of val and test."""
    held = max(2, round(0.15 * n))
    if n < 2 * held + 1:
        raise InputError(f"an example set needs at least {2 * held + 1} images, got {n}")
    return {"train": n - 2 * held, "val": held, "test": held}


def write_example_set(
    folder: str | Path, n: int = 24, data: dict | None = None, seed: int = 0
) -> pd.DataFrame:
    """Write `n` radiographs to `folder/images/` and their pose table to
    `folder/poses.csv` (columns file, col, row, angle_deg, mm_per_px, split,
    instrument); return the table. `data` overrides EXAMPLE_DATA's keys."""
    cfg = from_dict(DataConfig, {**EXAMPLE_DATA, **(data or {}), "max_tilt_deg": 0.0,
                                 "seed": seed}, "data")  # fmt: skip
    renderer, rng = Renderer.create(cfg), np.random.default_rng(seed)
    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    splits = [s for s, k in split_counts(n).items() for _ in range(k)]
    assert set(splits) <= set(SPLITS)
    rows = []
    for i, split in enumerate(splits):
        name = cfg.instruments[i % len(cfg.instruments)]
        pose = random_pose(rng, cfg)
        image = np.clip(renderer.full_image(rng, name, pose), 0.0, 1.0)
        file = f"{i:03d}.png"
        Image.fromarray((image * 65535).round().astype(np.uint16)).save(folder / "images" / file)
        landmarks = cfg.geometry.project(pose.landmarks_3d())
        rows.append({
            "file": file, "col": landmarks[0, 0], "row": landmarks[0, 1],
            "angle_deg": in_plane_angle(landmarks) % 360.0,
            "mm_per_px": float(cfg.geometry.mm_per_px(pose.z_mm)),
            "split": split, "instrument": name,
        })  # fmt: skip
    table = pd.DataFrame(rows).round({"col": DECIMALS, "row": DECIMALS, "angle_deg": DECIMALS,
                                      "mm_per_px": 5})  # fmt: skip
    write_table(table, folder / "poses.csv")
    return table
