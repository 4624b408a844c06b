"""The pose-estimation data set: simulated fluoroscopy patches with landmark labels.

i3PosNet-style samples: the true pose is perturbed into an estimate (displaced by up to
2.5 mm, rotated by up to ~30 deg); a patch is cut around the estimate and rotated so the
estimated axis is horizontal; the labels are the six pseudo-landmarks in patch pixel
coordinates, and `mm_per_px` turns pixel errors into millimetres at the instrument.
The whole data set is rendered once per config and shared by every child.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
import yaml

from autosnap.anatomy import ct_anatomy, load_ct, procedural_anatomy
from autosnap.fluoro import Geometry, Pose, expose, instrument_line_integrals
from autosnap.instrument import Instrument
from autosnap.progress import log, track
from autosnap.tables import DATA_COLUMNS, TableError, read_table, write_table

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class DataConfig:
    """The `data:` section of a config (see config/README.md)."""

    seed: int = 0
    instruments: list[str] = field(default_factory=lambda: ["screw"])
    n_train: int = 2000
    n_val: int = 500
    n_test: int = 500
    geometry: Geometry = field(default_factory=Geometry)
    patch: list[int] = field(default_factory=lambda: [48, 92])
    depth_range_mm: float = 40.0
    max_tilt_deg: float = 30.0
    max_displacement_mm: float = 2.5
    max_rotation_deg: float = 30.0
    photons: float = 20000.0
    background_bank: int = 32
    #: "procedural", or the path of a CT volume (NIfTI, Hounsfield units) to project
    anatomy: str = "procedural"

    def __post_init__(self) -> None:
        if len(self.patch) != 2 or min(self.patch) < 8:
            raise ValueError(f"patch must be [height, width] of at least 8 px, got {self.patch}")
        for name in ("n_train", "n_val", "n_test", "background_bank"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.photons <= 0:
            raise ValueError(f"photons must be positive, got {self.photons}")
        if self.anatomy != "procedural" and not self.anatomy.endswith((".nii", ".nii.gz")):
            raise ValueError(
                f"anatomy must be 'procedural' or a .nii/.nii.gz CT file, got '{self.anatomy}'"
            )
        if not self.instruments:
            raise ValueError("instruments must name at least one instrument")
        g = self.geometry
        if self.depth_range_mm / 2 >= g.source_isocentre_mm:
            raise ValueError("depth_range_mm puts the instrument behind the source")
        if self.position_limit_mm <= 0:
            raise ValueError(
                f"the patch ({self.patch[0]}x{self.patch[1]} px) plus the displacement of "
                f"{self.max_displacement_mm} mm does not fit in the {g.height}x{g.width} "
                f"image: the instrument would leave the field of view"
            )

    @property
    def position_limit_mm(self) -> float:
        """Largest |x|, |y| of the instrument reference point that keeps the patch inside
        the image at the nearest depth (largest magnification)."""
        g = self.geometry
        mm = g.mm_per_px(-self.depth_range_mm / 2)
        half_diag = 0.5 * np.hypot(*self.patch) * mm
        return 0.5 * min(g.height, g.width) * mm - half_diag - self.max_displacement_mm

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def patch_grid(centre: tuple[float, float], angle_deg: float, shape: tuple[int, int]) -> np.ndarray:
    """Image coordinates (col, row) of every patch pixel, (H, W, 2): the patch is centred
    on `centre` (col, row) and its +column axis points along `angle_deg`."""
    h, w = shape
    a = np.radians(angle_deg)
    dr, dc = np.mgrid[0:h, 0:w].astype(np.float64)
    dc -= (w - 1) / 2
    dr -= (h - 1) / 2
    col = centre[0] + np.cos(a) * dc - np.sin(a) * dr
    row = centre[1] + np.sin(a) * dc + np.cos(a) * dr
    return np.stack([col, row], axis=-1)


def to_patch(
    points: np.ndarray, centre: tuple[float, float], angle_deg: float, shape: tuple[int, int]
) -> np.ndarray:
    """Patch coordinates (col, row) of image points (N, 2): the inverse of patch_grid."""
    h, w = shape
    a = np.radians(angle_deg)
    d = np.asarray(points, dtype=np.float64) - np.asarray(centre)
    dc = np.cos(a) * d[:, 0] + np.sin(a) * d[:, 1]
    dr = -np.sin(a) * d[:, 0] + np.cos(a) * d[:, 1]
    return np.stack([dc + (w - 1) / 2, dr + (h - 1) / 2], axis=-1)


def from_patch(
    points: np.ndarray, centre: tuple[float, float], angle_deg: float, shape: tuple[int, int]
) -> np.ndarray:
    """Image coordinates (col, row) of patch points (N, 2): the inverse of to_patch."""
    h, w = shape
    a = np.radians(angle_deg)
    p = np.asarray(points, dtype=np.float64)
    dc, dr = p[:, 0] - (w - 1) / 2, p[:, 1] - (h - 1) / 2
    col = centre[0] + np.cos(a) * dc - np.sin(a) * dr
    row = centre[1] + np.sin(a) * dc + np.cos(a) * dr
    return np.stack([col, row], axis=-1)


def sample_image(
    image: np.ndarray, grid: np.ndarray, offset: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """Bilinear samples of `image` at image coordinates `grid` (H, W, 2), where image
    pixel (0, 0) sits at `offset` (col, row); outside the image the border value."""
    ih, iw = image.shape
    g = grid - np.asarray(offset, dtype=np.float64)
    norm = np.stack([2 * g[..., 0] / (iw - 1) - 1, 2 * g[..., 1] / (ih - 1) - 1], axis=-1)
    out = F.grid_sample(
        torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None],
        torch.from_numpy(norm.astype(np.float32))[None],
        mode="bilinear",
        padding_mode="border",
        align_corners=True,
    )
    return out[0, 0].numpy()


def random_pose(rng: np.random.Generator, cfg: DataConfig) -> Pose:
    lim = cfg.position_limit_mm
    return Pose(
        x_mm=rng.uniform(-lim, lim),
        y_mm=rng.uniform(-lim, lim),
        z_mm=rng.uniform(-cfg.depth_range_mm / 2, cfg.depth_range_mm / 2),
        angle_deg=rng.uniform(0.0, 360.0),
        tilt_deg=rng.uniform(-cfg.max_tilt_deg, cfg.max_tilt_deg),
    )


def in_plane_angle(landmarks_px: np.ndarray) -> float:
    """Image angle (deg) of the projected axis, from the reference point to (3, 0)."""
    d = landmarks_px[2] - landmarks_px[0]
    return float(np.degrees(np.arctan2(d[1], d[0])))


@dataclass
class Renderer:
    """Renders samples for one config: a seeded bank of anatomy backgrounds, reused with
    random flips and intensity scaling, plus the instrument and noise per sample."""

    cfg: DataConfig
    bank: list[np.ndarray]
    instruments: dict[str, Instrument]

    @classmethod
    def create(cls, cfg: DataConfig, seed: np.random.SeedSequence) -> Renderer:
        instruments = {name: Instrument.load(name) for name in cfg.instruments}
        rng = np.random.default_rng(seed)
        if cfg.anatomy == "procedural":
            make = lambda: procedural_anatomy(rng, cfg.geometry)  # noqa: E731
        else:
            volume, spacing = load_ct(cfg.anatomy)
            make = lambda: ct_anatomy(rng, cfg.geometry, volume, spacing)  # noqa: E731
        n = cfg.background_bank
        bank = [make() for _ in track(range(n), n, "backgrounds")]
        return cls(cfg, bank, instruments)

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
        radius = cfg.max_displacement_mm * np.sqrt(rng.random()) / mm_per_px
        phi = rng.uniform(0, 2 * np.pi)
        centre = (landmarks[0, 0] + radius * np.cos(phi), landmarks[0, 1] + radius * np.sin(phi))
        est_angle = in_plane_angle(landmarks) + rng.uniform(
            -cfg.max_rotation_deg, cfg.max_rotation_deg
        )
        shape = (cfg.patch[0], cfg.patch[1])
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


def make_dataset(cfg: DataConfig, out_dir: str | Path) -> dict[str, Path]:
    """Render the train/val/test tables and the example picture into `out_dir`.

    Deterministic: the same config gives the same files (one seed stream per split)."""
    out_dir = Path(out_dir)
    bank_seed, *split_seeds = np.random.SeedSequence(cfg.seed).spawn(1 + len(SPLITS))
    renderer = Renderer.create(cfg, bank_seed)
    paths: dict[str, Path] = {}
    for split, seed in zip(SPLITS, split_seeds, strict=True):
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
    from autosnap.figures import data_examples

    paths["examples"] = data_examples(
        renderer, read_table(paths["train"]), out_dir / "examples.png", seed=cfg.seed
    )
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
