"""SNAPNet: shapes, gradients through every symbol, identity, cost measures."""

from __future__ import annotations

import pytest
import torch

from autosnap.models.snapnet import SnapNet, count_macs, count_params
from autosnap.space.snap import SYMBOLS, Snap

# Uses every symbol at least once.
EVERY_SYMBOL = "dup c1 swap c3 add dup s3 swap s5 cat dup d3 swap mp add ap"


def test_every_symbol_is_used_by_the_gradient_test():
    assert set(Snap.parse(EVERY_SYMBOL).symbols) == set(SYMBOLS)


@pytest.mark.parametrize("shape", [(24, 46), (48, 92), (33, 17), (8, 8)])
@pytest.mark.parametrize(("stages", "blocks"), [(1, 1), (3, 2)])
def test_output_shape_for_several_input_sizes(shape, stages, blocks):
    net = SnapNet(EVERY_SYMBOL, outputs=12, width=4, stages=stages, blocks=blocks)
    y = net(torch.randn(2, 1, *shape))
    assert y.shape == (2, 12)


def test_gradient_reaches_every_parameter():
    torch.manual_seed(0)
    net = SnapNet(EVERY_SYMBOL, outputs=12, width=4, stages=2, blocks=1)
    net(torch.randn(2, 1, 24, 46)).square().sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


def test_same_snap_id_builds_the_same_network():
    a, b = Snap.parse("dup c3 s5 swap add"), Snap.parse("dup c3 s5 add")
    assert a.snap_id == b.snap_id
    torch.manual_seed(1)
    net_a = SnapNet(a, outputs=3, width=4)
    torch.manual_seed(1)
    net_b = SnapNet(b, outputs=3, width=4)
    x = torch.randn(2, 1, 16, 16)
    net_a.eval()
    net_b.eval()
    assert torch.equal(net_a(x), net_b(x))


def test_shared_and_twin_convs_differ_in_parameters():
    shared = count_params(SnapNet("c3 dup add", outputs=12, width=8, stages=1))
    twins = count_params(SnapNet("dup c3 swap c3 add", outputs=12, width=8, stages=1))
    assert twins - shared == 8 * 8 * 9 + 2 * 8  # one more 3x3 conv and its batch norm


def test_macs_counted_by_hand():
    # stem 3x3 conv 1->4 on 8x8: 8*8*4*9; c1 block 4->4: 8*8*4*4; head 4->12: 48
    net = SnapNet("c1", outputs=12, width=4, stages=1, blocks=1)
    assert count_macs(net, (1, 8, 8)) == 8 * 8 * 4 * 9 + 8 * 8 * 4 * 4 + 4 * 12


def test_params_counted_by_hand():
    # stem conv 1*4*9 + BN 8; c1 conv 16 + BN 8; head 4*12 + 12
    net = SnapNet("c1", outputs=12, width=4, stages=1, blocks=1)
    assert count_params(net) == 36 + 8 + 16 + 8 + 48 + 12


def test_bad_sizes_are_rejected_with_the_field_named():
    with pytest.raises(ValueError, match="width=0"):
        SnapNet("c3", outputs=12, width=0)
