"""Patches cut around a pose estimate, i3PosNet-style: the patch is centred on the
estimated reference point and rotated so the estimated axis runs along +column.

Everything goes through one rotation (`_rotate`): the patch grid, image <-> patch
coordinates and the cut itself, for simulated, imported and predicted images alike.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

Point = tuple[float, float]


def _rotate(
    dc: np.ndarray, dr: np.ndarray, angle_deg: float, origin: Point = (0.0, 0.0)
) -> tuple[np.ndarray, np.ndarray]:
    """`origin` plus the offsets (along columns, along rows) turned by `angle_deg` (from
    +column towards +row)."""
    a = np.radians(angle_deg)
    return origin[0] + np.cos(a) * dc - np.sin(a) * dr, origin[1] + np.sin(a) * dc + np.cos(a) * dr


def _centre_offset(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    return np.array([(w - 1) / 2, (h - 1) / 2])


def from_patch(points: np.ndarray, centre: Point, angle_deg: float, shape: tuple[int, int],
               scale: float = 1.0) -> np.ndarray:  # fmt: skip
    """Image coordinates (col, row) of patch points (..., 2); `scale`: image pixels per
    patch pixel (1 unless the image's pixel size differs from the training data's)."""
    p = (np.asarray(points, dtype=np.float64) - _centre_offset(shape)) * scale
    return np.stack(_rotate(p[..., 0], p[..., 1], angle_deg, centre), axis=-1)


def to_patch(points: np.ndarray, centre: Point, angle_deg: float, shape: tuple[int, int],
             scale: float = 1.0) -> np.ndarray:  # fmt: skip
    """Patch coordinates (col, row) of image points (..., 2): the inverse of from_patch."""
    d = np.asarray(points, dtype=np.float64) - np.asarray(centre)
    dc, dr = _rotate(d[..., 0], d[..., 1], -angle_deg)
    return np.stack([dc, dr], axis=-1) / scale + _centre_offset(shape)


def patch_grid(centre: Point, angle_deg: float, shape: tuple[int, int], scale: float = 1.0
               ) -> np.ndarray:  # fmt: skip
    """Image coordinates (col, row) of every patch pixel, (H, W, 2)."""
    h, w = shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    return from_patch(np.stack([cols, rows], axis=-1), centre, angle_deg, shape, scale)


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


def cut_patch(
    image: np.ndarray,
    centre: Point,
    angle_deg: float,
    shape: tuple[int, int],
    offset: tuple[int, int] = (0, 0),
    scale: float = 1.0,
) -> np.ndarray:
    """The patch (H, W) of `image` around (centre, angle), `scale` image pixels per patch
    pixel (bilinear: for scales well above 1 downsample the image first); see
    sample_image for `offset`."""
    return sample_image(image, patch_grid(centre, angle_deg, shape, scale), offset)


def perturb_estimate(
    rng: np.random.Generator,
    reference_px: np.ndarray,
    axis_angle_deg: float,
    mm_per_px: float,
    max_displacement_mm: float,
    max_rotation_deg: float,
) -> tuple[Point, float]:
    """An estimate of the pose as a tracker would give it: the reference point displaced
    uniformly within a disc of `max_displacement_mm`, the angle by up to
    ±`max_rotation_deg`. Returns (centre (col, row), angle in degrees)."""
    radius = max_displacement_mm * np.sqrt(rng.random()) / mm_per_px
    phi = rng.uniform(0, 2 * np.pi)
    centre = (reference_px[0] + radius * np.cos(phi), reference_px[1] + radius * np.sin(phi))
    return centre, axis_angle_deg + rng.uniform(-max_rotation_deg, max_rotation_deg)
