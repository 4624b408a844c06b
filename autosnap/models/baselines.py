"""The hand-designed baselines the search result is compared with, by name.

Torch-free, so the config (`final.baselines`) and the workflow's DAG can name them
without building a network: `i3posnet` is a network of its own (autosnap.models.i3posnet),
`resnet` is the SNAP of a ResNet basic block in SNAPNet.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Baselines that are not SNAPs; autosnap.models.factory builds their networks.
HAND_DESIGNED = ("i3posnet",)
#: Baselines that are SNAPs.
BASELINE_SNAPS = {"resnet": "dup c3 c3 add"}
BASELINES = (*HAND_DESIGNED, *BASELINE_SNAPS)


@dataclass(frozen=True)
class HandDesigned:
    """A baseline network that is not a SNAP; it stands where a Snap stands in training
    (its name is both its `text` and its `snap_id` in the tables)."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in HAND_DESIGNED:
            raise ValueError(
                f"unknown hand-designed network '{self.name}', expected {HAND_DESIGNED}"
            )

    @property
    def text(self) -> str:
        return self.name

    @property
    def snap_id(self) -> str:
        return self.name
