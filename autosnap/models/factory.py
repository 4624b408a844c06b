"""Building a network from an architecture: a SNAP in SNAPNet, or a hand-designed one.

The one place that maps an architecture to a module, so training, checkpoints and
export rebuild exactly the same network from the same description.
"""

from __future__ import annotations

from torch import nn

from autosnap.models.baselines import HAND_DESIGNED, HandDesigned
from autosnap.models.i3posnet import I3PosNetLike
from autosnap.models.snapnet import SnapNet
from autosnap.space.snap import Snap

#: What a child trains: a SNAP in SNAPNet, or a hand-designed baseline network.
Architecture = Snap | HandDesigned
#: The module class of each hand-designed baseline (by its name in baselines.HAND_DESIGNED).
NETWORKS: dict[str, type[nn.Module]] = {"i3posnet": I3PosNetLike}
assert set(NETWORKS) == set(HAND_DESIGNED), "every hand-designed baseline needs a network"
#: Outputs of every network: six landmarks as (col, row) (autosnap.data.encoding).
OUTPUTS = 12


def build_model(
    arch: Architecture, input_shape: tuple[int, int], width: int, stages: int, blocks: int
) -> nn.Module:
    """The network of an architecture; `width`, `stages` and `blocks` size SNAPNet (C0,
    S, B), `input_shape` (H, W) sizes the hand-designed networks' dense head."""
    if isinstance(arch, HandDesigned):
        return NETWORKS[arch.name](input_shape, outputs=OUTPUTS)
    return SnapNet(arch, outputs=OUTPUTS, width=width, stages=stages, blocks=blocks)
