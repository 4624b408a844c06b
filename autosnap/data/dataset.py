"""The pose-estimation data set: simulated fluoroscopy patches with landmark labels.

i3PosNet-style samples: the true pose is perturbed into an estimate (displaced by up to
2.5 mm, rotated by up to ~30 deg); a patch is cut around the estimate and rotated so the
estimated axis is horizontal; the labels are the six pseudo-landmarks in patch pixel
coordinates, and `mm_per_px` turns pixel errors into millimetres at the instrument.
The whole data set is rendered once per config and shared by every child.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from autosnap.data.config import SPLITS, DataConfig
from autosnap.data.patches import patch_grid, perturb_estimate, sample_image, to_patch
from autosnap.data.pose import in_plane_angle
from autosnap.progress import log, track
from autosnap.seeds import data_streams
from autosnap.sim.anatomy import ct_anatomy, load_ct, procedural_anatomy
from autosnap.sim.fluoro import Pose, expose, instrument_line_integrals
from autosnap.sim.instrument import Instrument
from autosnap.tables import DATA_COLUMNS, TableError, read_table, write_table


def random_pose(rng: np.random.Generator, cfg: DataConfig) -> Pose:
    lim = cfg.position_limit_mm
    return Pose(
        x_mm=rng.uniform(-lim, lim),
        y_mm=rng.uniform(-lim, lim),
        z_mm=rng.uniform(-cfg.depth_range_mm / 2, cfg.depth_range_mm / 2),
        angle_deg=rng.uniform(0.0, 360.0),
        tilt_deg=rng.uniform(-cfg.max_tilt_deg, cfg.max_tilt_deg),
    )


@dataclass
class Renderer:
    """Renders samples for one config: a seeded bank of anatomy backgrounds, reused with
    random flips and intensity scaling, plus the instrument and noise per sample."""

    cfg: DataConfig
    bank: list[np.ndarray]
    instruments: dict[str, Instrument]
    #: the CT (attenuation volume, voxel size) the bank was projected from, if any: kept
    #: for the anatomy figure's whole-volume view, so the file is read once
    ct: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def create(cls, cfg: DataConfig, seed: np.random.SeedSequence | None = None) -> Renderer:
        """The renderer of `cfg`; `seed` defaults to the bank's stream of `data.seed`."""
        seed = seed_streams(cfg)[0] if seed is None else seed
        instruments = {name: Instrument.load(name) for name in cfg.instruments}
        rng = np.random.default_rng(seed)
        ct = None if cfg.anatomy == "procedural" else load_ct(cfg.anatomy)
        if ct is None:
            make = lambda: procedural_anatomy(rng, cfg.geometry)  # noqa: E731
        else:
            make = lambda: ct_anatomy(rng, cfg.geometry, *ct)  # noqa: E731
        n = cfg.background_bank
        bank = [make() for _ in track(range(n), n, "backgrounds")]
        return cls(cfg, bank, instruments, ct)

    def background(self, rng: np.random.Generator) -> np.ndarray:
        bg = self.bank[rng.integers(len(self.bank))]
        if rng.random() < 0.5:
            bg = bg[:, ::-1]
        if rng.random() < 0.5:
            bg = bg[::-1, :]
        return bg * rng.uniform(0.85, 1.15)

    def full_image(self, rng: np.random.Generator, name: str, pose: Pose) -> np.ndarray:
        """The whole detector image (for pictures; samples render only their patch area)."""
        li = instrument_line_integrals(self.cfg.geometry, self.instruments[name], pose)
        return expose(rng, self.background(rng) + li, self.cfg.photons)

    def sample(self, rng: np.random.Generator) -> dict:
        """One labelled patch with its pose, the estimate it was cut around, and mm/px."""
        cfg, g = self.cfg, self.cfg.geometry
        name = cfg.instruments[rng.integers(len(cfg.instruments))]
        pose = random_pose(rng, cfg)
        landmarks = g.project(pose.landmarks_3d())
        mm_per_px = float(g.mm_per_px(pose.z_mm))
        centre, est_angle = perturb_estimate(rng, landmarks[0], in_plane_angle(landmarks),
                                             mm_per_px, cfg.max_displacement_mm,
                                             cfg.max_rotation_deg)  # fmt: skip
        shape = cfg.patch_shape
        grid = patch_grid(centre, est_angle, shape)
        # Render only the window the patch covers (plus a margin for interpolation).
        c0, r0 = np.maximum(np.floor(grid.reshape(-1, 2).min(axis=0)).astype(int) - 2, 0)
        c1 = min(int(np.ceil(grid[..., 0].max())) + 2, g.width - 1)
        r1 = min(int(np.ceil(grid[..., 1].max())) + 2, g.height - 1)
        li = instrument_line_integrals(g, self.instruments[name], pose, window=(r0, r1, c0, c1))
        bg = self.background(rng)[r0 : r1 + 1, c0 : c1 + 1]
        window = expose(rng, bg + li, cfg.photons)
        patch = sample_image(window, grid, offset=(c0, r0))
        return {
            "instrument": name,
            "image": patch.astype(np.float32).tobytes(),
            "height": shape[0],
            "width": shape[1],
            "landmarks": to_patch(landmarks, centre, est_angle, shape).ravel().tolist(),
            "mm_per_px": mm_per_px,
            "x_mm": pose.x_mm,
            "y_mm": pose.y_mm,
            "z_mm": pose.z_mm,
            "angle_deg": pose.angle_deg,
            "tilt_deg": pose.tilt_deg,
            "est_row": centre[1],
            "est_col": centre[0],
            "est_angle_deg": est_angle,
        }


def seed_streams(cfg: DataConfig) -> tuple[np.random.SeedSequence, list[np.random.SeedSequence]]:
    """Independent seed streams from `data.seed`: the background bank, then one per split."""
    return data_streams(cfg.seed, len(SPLITS))


def make_dataset(
    cfg: DataConfig, out_dir: str | Path, renderer: Renderer | None = None
) -> dict[str, Path]:
    """Render the train/val/test tables (and `dataset.yaml`, the config they came from)
    into `out_dir`; `renderer` is Renderer.create(cfg) when the caller has one already.

    Deterministic: the same config gives the same files (one seed stream per split)."""
    out_dir = Path(out_dir)
    renderer = renderer or Renderer.create(cfg)
    paths: dict[str, Path] = {}
    for split, seed in zip(SPLITS, seed_streams(cfg)[1], strict=True):
        n = getattr(cfg, f"n_{split}")
        rng = np.random.default_rng(seed)
        rows = [renderer.sample(rng) for _ in track(range(n), n, f"rendering {split}")]
        df = pd.DataFrame(rows)
        df.insert(0, "sample", np.arange(n))
        df.insert(1, "split", split)
        df["seed"] = cfg.seed
        paths[split] = write_table(df[DATA_COLUMNS], out_dir / f"{split}.parquet")
        log.info("wrote %s (%d samples)", paths[split], n)
    (out_dir / "dataset.yaml").write_text(yaml.safe_dump({"data": cfg.to_dict()}, sort_keys=False))
    return paths


def load_split(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images (N, 1, H, W) float32, landmarks (N, 6, 2) float32 (col, row) and
    mm per pixel (N,) from a data table."""
    df = read_table(path, ["image", "height", "width", "landmarks", "mm_per_px"])
    if df.empty:
        raise TableError(f"{path}: the table has no samples")
    shapes = set(zip(df["height"], df["width"], strict=True))
    if len(shapes) != 1:
        raise TableError(f"{path}: patches of several sizes {sorted(shapes)}; expected one")
    ((h, w),) = shapes
    images = np.stack([np.frombuffer(b, dtype=np.float32) for b in df["image"]])
    if images.shape[1] != h * w:
        raise TableError(f"{path}: column 'image' holds {images.shape[1]} values, not {h}x{w}")
    landmarks = np.stack(df["landmarks"].to_numpy()).astype(np.float32).reshape(-1, 6, 2)
    return (
        images.reshape(-1, 1, h, w),
        landmarks,
        df["mm_per_px"].to_numpy(dtype=np.float32),
    )
