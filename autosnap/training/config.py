"""The `train:` and `final:` sections of a config: how networks are trained, as children
of the search and in the final comparison.

Torch-free, so the workflow builds its DAG (rounds, candidates, seeds) without loading
torch. The final section lives here rather than in autosnap.pipeline.final because it is read
when the DAG is built, and autosnap.pipeline.final trains networks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autosnap.config import from_dict
from autosnap.models.baselines import BASELINES

SCHEDULES = ("onecycle", "cosine", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """The `train:` section of a config: the child's budget and network size. `seed` is
    the one source of a training run's seed: callers that train with another seed (the
    final stage, the CLI) put it here before training (see train_config)."""

    epochs: int = 5
    #: When > 0, train exactly this many optimiser steps instead of `epochs`.
    steps: int = 0
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    schedule: str = "onecycle"
    #: SNAPNet size: stem channels C0, stages S, blocks per stage B.
    width: int = 16
    stages: int = 3
    blocks: int = 1
    #: CPU threads per child (0: leave torch's default).
    threads: int = 0
    device: str = "auto"
    #: Seconds before a child is stopped with status `timeout` (0: no limit).
    time_limit_s: float = 0.0
    channels_last: bool = True
    #: bfloat16 autocast on CUDA (ignored on CPU).
    amp: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got '{self.schedule}'")
        for name in ("batch_size", "width", "stages", "blocks"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.epochs < 1 and self.steps < 1:
            raise ValueError("epochs or steps must be at least 1")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")

    @property
    def net_size(self) -> dict[str, int]:
        """SNAPNet's size arguments (autosnap.models.factory.build_model)."""
        return {"width": self.width, "stages": self.stages, "blocks": self.blocks}


def train_config(section: dict | None, **overrides: object) -> TrainConfig:
    """TrainConfig of a `train:` section with `overrides` (those not None) on top, all
    checked alike: a bad override is named as `train.<key>` as a bad key in the file is."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return from_dict(TrainConfig, {**(section or {}), **given}, "train")


@dataclass(frozen=True)
class FinalConfig:
    """The `final:` section of a config."""

    #: How many of the best SNAPs found are retrained.
    top: int = 3
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    #: Overrides of the `train:` section for the full budget (for example more epochs).
    train: dict = field(default_factory=dict)
    baselines: list[str] = field(default_factory=lambda: ["i3posnet", "resnet"])
    #: Also run a random search with the search's budget (rounds x children) and retrain
    #: its best as candidate `random`.
    random_search: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.baselines) - set(BASELINES))
        if unknown:
            raise ValueError(f"unknown baseline(s) {unknown}, expected some of {list(BASELINES)}")
        if not self.seeds:
            raise ValueError("seeds must list at least one seed")

    @property
    def candidates(self) -> list[str]:
        """Every candidate of the final comparison, named before the search runs (so the
        DAG is static): best1..bestN, `random` with a random search, the baselines."""
        found = [f"best{i}" for i in range(1, self.top + 1)]
        return found + (["random"] if self.random_search else []) + list(self.baselines)

    def train_config(self, section: dict | None, seed: int) -> TrainConfig:
        """The full budget: the `train:` section with this section's overrides and `seed`."""
        return train_config({**(section or {}), **self.train}, seed=seed)
