"""Surgical instruments as axis-symmetric solids, described in YAML files: the built-in
ones in autosnap/sim/instruments/ (package data, so an installed wheel has them), or
any file of the same form given by path."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import yaml

from autosnap.errors import InputError

#: Where the shipped instrument descriptions live.
#: The built-in instruments, by name (`screw.yaml` is `screw`).
INSTRUMENT_DIR = files("autosnap.sim") / "instruments"


class InstrumentError(InputError):
    """A missing or non-physical instrument description (names the file and field)."""


@dataclass(frozen=True)
class Instrument:
    """Radius profile along the local axis x (mm): head on x < 0, threaded shaft on
    0 <= x < shaft_length, then a cone tip. x = 0 is the reference ("head") point."""

    name: str
    head_radius: float
    head_length: float
    shaft_radius: float
    shaft_length: float
    thread_pitch: float
    thread_depth: float
    tip_length: float
    attenuation: float

    @property
    def a_min(self) -> float:
        return -self.head_length

    @property
    def a_max(self) -> float:
        return self.shaft_length + self.tip_length

    @property
    def r_max(self) -> float:
        return max(self.head_radius, self.shaft_radius + self.thread_depth)

    def radius(self, a: np.ndarray) -> np.ndarray:
        """Outer radius (mm) at axial positions `a` (mm); 0 outside the instrument."""
        a = np.asarray(a, dtype=np.float64)
        thread = self.thread_depth * (0.5 + 0.5 * np.sin(2 * np.pi * a / self.thread_pitch))
        tip_frac = np.clip((a - self.shaft_length) / self.tip_length, 0.0, 1.0)
        return np.select(
            [
                (a >= self.a_min) & (a < 0),
                (a >= 0) & (a < self.shaft_length),
                (a >= self.shaft_length) & (a <= self.a_max),
            ],
            [self.head_radius, self.shaft_radius + thread, self.shaft_radius * (1 - tip_frac)],
            0.0,
        )

    @classmethod
    def load(cls, name_or_path: str | Path) -> Instrument:
        """Read a built-in instrument by name (INSTRUMENT_DIR) or one from a YAML path."""
        path = Path(name_or_path)
        if path.suffix not in (".yaml", ".yml"):
            path = Path(str(INSTRUMENT_DIR / f"{name_or_path}.yaml"))
            if not path.exists():
                known = sorted(p.name[:-5] for p in INSTRUMENT_DIR.iterdir()
                               if p.name.endswith(".yaml"))  # fmt: skip
                raise InstrumentError(
                    f"unknown instrument '{name_or_path}': expected one of {known} "
                    f"or a path to a YAML file"
                )
        if not path.exists():
            raise InstrumentError(f"{path}: instrument file not found")
        try:
            spec = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise InstrumentError(f"{path}: not valid YAML: {e}") from e

        def number(*keys: str, allow_zero: bool = False) -> float:
            node = spec
            for k in keys:
                if not isinstance(node, dict) or k not in node:
                    raise InstrumentError(f"{path}: missing field '{'.'.join(keys)}'")
                node = node[k]
            if not isinstance(node, int | float) or node < 0 or (node == 0 and not allow_zero):
                raise InstrumentError(
                    f"{path}: field '{'.'.join(keys)}' must be a "
                    f"{'non-negative' if allow_zero else 'positive'} number in mm, got {node!r}"
                )
            return float(node)

        inst = cls(
            name=str(spec.get("name", path.stem)) if isinstance(spec, dict) else path.stem,
            head_radius=number("head", "radius_mm"),
            head_length=number("head", "length_mm"),
            shaft_radius=number("shaft", "radius_mm"),
            shaft_length=number("shaft", "length_mm"),
            thread_pitch=number("thread", "pitch_mm"),
            thread_depth=number("thread", "depth_mm", allow_zero=True),
            tip_length=number("tip", "length_mm"),
            attenuation=number("attenuation_per_mm"),
        )
        return inst
