"""SNAPNet: the macro network that repeats a SNAP block, and its cost measures.

stem 3x3 conv (C0) -> S stages of B SNAP blocks, a stride-2 3x3 conv doubling the
channels between stages -> global average pooling -> linear head.
The block is built from the canonical DAG, so two SNAPs with one snap_id give the
same module (same parameters in the same order).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from autosnap.space.snap import Dag, Snap


def conv_bn_relu(
    c_in: int, c_out: int, k: int, stride: int = 1, dilation: int = 1, groups: int = 1
) -> nn.Sequential:
    pad = dilation * (k - 1) // 2
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, stride, pad, dilation, groups, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def separable(c: int, k: int) -> nn.Sequential:
    """Depthwise k x k then pointwise 1x1, one BN and ReLU at the end."""
    return nn.Sequential(
        nn.Conv2d(c, c, k, 1, k // 2, groups=c, bias=False),
        nn.Conv2d(c, c, 1, bias=False),
        nn.BatchNorm2d(c),
        nn.ReLU(inplace=True),
    )


def make_op(op: str, c: int) -> nn.Module:
    """The module of one DAG node (`add` has none: it is a plain sum)."""
    match op:
        case "c1":
            return conv_bn_relu(c, c, 1)
        case "c3":
            return conv_bn_relu(c, c, 3)
        case "s3":
            return separable(c, 3)
        case "s5":
            return separable(c, 5)
        case "d3":
            return conv_bn_relu(c, c, 3, dilation=2)
        case "mp":
            return nn.MaxPool2d(3, 1, 1)
        case "ap":
            return nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        case "cat":
            return conv_bn_relu(2 * c, c, 1)
        case "add":
            return nn.Identity()
    raise ValueError(f"no module for SNAP operation '{op}'")


class SnapBlock(nn.Module):
    """One SNAP block: evaluates the DAG node by node; keeps channels and spatial size."""

    def __init__(self, dag: Dag, channels: int):
        super().__init__()
        self.ops = [n.op for n in dag.nodes[1:]]
        self.inputs = [n.inputs for n in dag.nodes[1:]]
        self.layers = nn.ModuleList(make_op(op, channels) for op in self.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = [x]
        for op, ins, layer in zip(self.ops, self.inputs, self.layers, strict=True):
            if op == "add":
                out = values[ins[0]] + values[ins[1]]
            elif op == "cat":
                out = layer(torch.cat([values[ins[0]], values[ins[1]]], dim=1))
            else:
                out = layer(values[ins[0]])
            values.append(out)
        return values[-1]


class SnapNet(nn.Module):
    """The macro network around a SNAP block (docs/design.md, "SNAPNet")."""

    def __init__(
        self,
        snap: Snap | str,
        outputs: int,
        width: int = 16,
        stages: int = 3,
        blocks: int = 1,
        in_channels: int = 1,
    ):
        super().__init__()
        snap = Snap.parse(snap) if isinstance(snap, str) else snap
        if width < 1 or stages < 1 or blocks < 1 or outputs < 1:
            raise ValueError(
                f"SnapNet needs positive sizes, got width={width} stages={stages} "
                f"blocks={blocks} outputs={outputs}"
            )
        self.snap = snap.text
        layers: list[nn.Module] = [conv_bn_relu(in_channels, width, 3)]
        c = width
        for s in range(stages):
            if s > 0:
                layers.append(conv_bn_relu(c, 2 * c, 3, stride=2))
                c *= 2
            layers.extend(SnapBlock(snap.dag, c) for _ in range(blocks))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(c, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(self.features(x)), 1))


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of one forward pass for one image of `input_shape` (C, H, W).

    Counted by torch's FlopCounterMode (convolutions and matrix products; pooling,
    batch norm and element-wise ops are not counted), halved from FLOPs to MACs."""
    was_training = model.training
    model.eval()
    try:
        p = next(model.parameters())
        x = torch.zeros((1, *input_shape), dtype=p.dtype, device=p.device)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        model.train(was_training)
    return counter.get_total_flops() // 2
