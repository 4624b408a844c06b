"""`autosnap measure`: a network's size and latency where it will run, before training."""

from __future__ import annotations

import subprocess

import pytest
import torch
from helpers import AUTOSNAP, ROOT

from autosnap.errors import InputError
from autosnap.models.factory import build_model
from autosnap.models.snapnet import count_params
from autosnap.training.config import TrainConfig
from autosnap.training.measure import architecture, measure


def test_a_snap_and_a_baseline_are_measured_as_the_search_sizes_them():
    cfg = TrainConfig(width=16)
    snap = measure(architecture("mp ap d3 c3 dup d3 c3 d3 cat"), (24, 46), cfg,
                   torch.device("cpu"), runs=3)  # fmt: skip
    assert snap["params"] == 278_204  # what the final table reported for this block
    i3 = measure(architecture("i3posnet"), (24, 46), cfg, torch.device("cpu"), runs=3)
    net = build_model(architecture("i3posnet"), (24, 46), **cfg.net_size)
    assert i3["params"] == count_params(net) and i3["latency_ms"] > 0 and i3["macs"] > 0
    assert architecture("resnet").text == "dup c3 c3 add"
    with pytest.raises(InputError, match="'dup zz': neither a baseline .* nor a valid SNAP"):
        architecture("dup zz")


@pytest.mark.slow
def test_the_command_prints_one_line_per_network_and_refuses_a_bad_one():
    cmd = [AUTOSNAP, "measure", "i3posnet", "dup c3 c3 add", "--config",
           str(ROOT / "config/config.yaml"), "--device", "cpu", "--runs", "3"]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("patch 24x46, batch 1, cpu")
    assert "i3posnet" in lines[2] and "781,740" in lines[2] and lines[2].endswith(" ms")
    assert "dup c3 c3 add" in lines[3] and "121,404" in lines[3]
    r = subprocess.run([AUTOSNAP, "measure", "dup zz"], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
