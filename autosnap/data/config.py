"""The `data:` section of a config, torch-free so the workflow can read it cheaply."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from autosnap.sim.fluoro import Geometry

#: The data set's splits: children train on train and are scored on val; only the final
#: comparison scores on test.
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
    #: "simulate" renders the data set; "import" cuts it from your images (`images`,
    #: `poses`; see autosnap.data.importer), with `patch`, `seed` and the perturbations
    source: str = "simulate"
    images: str = ""
    poses: str = ""
    #: import: patches cut per image, each around its own perturbed first guess
    patches_per_image: int = 1
    #: import: fewest images a split may have (an empty test split measures nothing)
    min_images_per_split: int = 2
    #: import: invert every image after reading (processed radiographs, metal bright)
    invert: bool = False

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
        if self.source not in ("simulate", "import"):
            raise ValueError(f"source must be 'simulate' or 'import', got '{self.source}'")
        if self.source == "import" and not (self.images and self.poses):
            raise ValueError("source 'import' needs `images` (a folder) and `poses` (a table)")
        if self.patches_per_image < 1 or self.min_images_per_split < 1:
            raise ValueError("patches_per_image and min_images_per_split must be at least 1")
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
    def patch_shape(self) -> tuple[int, int]:
        return self.patch[0], self.patch[1]

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
