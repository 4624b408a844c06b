"""Hand-designed networks the search result is compared with in the final stage.

`i3posnet` follows the network of i3PosNet (Kügler et al., IJCARS 2019) in spirit: a
VGG-style feature extractor and a fully connected regression head. Its exact definition
here, for an input of H x W:

    3 stages with 32, 64, 128 channels; each stage is two 3x3 convolutions (padding 1,
    no bias) each followed by batch norm and ReLU, then a 2x2 max pool with stride 2;
    flatten (128 * H//8 * W//8) -> linear 256 -> ReLU -> linear 12 (six landmarks).

The original uses more and wider layers, dropout and a 1024-unit head for 92x48
patches; this smaller version keeps the design (plain stacked convs, pooling, dense
head) at a size comparable with the demo's SNAPNets. The ResNet-style baseline is a
SNAP (`dup c3 c3 add`, see autosnap.models.baselines) and needs no code here.
"""

from __future__ import annotations

import torch
from torch import nn

from autosnap.models.snapnet import conv_bn_relu

I3POSNET_CHANNELS = (32, 64, 128)
I3POSNET_HIDDEN = 256


class I3PosNetLike(nn.Module):
    """VGG-style convolution stages and a fully connected head (see the module docstring)."""

    def __init__(
        self,
        input_shape: tuple[int, int],
        outputs: int = 12,
        channels: tuple[int, ...] = I3POSNET_CHANNELS,
        hidden: int = I3POSNET_HIDDEN,
        in_channels: int = 1,
    ):
        super().__init__()
        h, w = input_shape
        layers: list[nn.Module] = []
        c_in = in_channels
        for c in channels:
            layers += [conv_bn_relu(c_in, c, 3), conv_bn_relu(c, c, 3), nn.MaxPool2d(2, 2)]
            c_in = c
            h, w = h // 2, w // 2
        if h < 1 or w < 1:
            raise ValueError(f"input {input_shape} is too small for {len(channels)} poolings")
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(c_in * h * w, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, outputs),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
