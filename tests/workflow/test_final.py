"""The final stage's parts: the hand-designed baseline, the random-search proposals,
checkpoints, the export checks and the Pareto front."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from autosnap.data.patches import from_patch, to_patch
from autosnap.deploy.export import ExportError, export_model
from autosnap.models.baselines import HandDesigned
from autosnap.models.factory import build_model
from autosnap.models.i3posnet import I3PosNetLike
from autosnap.models.snapnet import count_params
from autosnap.pipeline.report import pareto_front
from autosnap.pipeline.stages import random_search_proposals
from autosnap.search.config import SearchConfig
from autosnap.search.loop import propose_round
from autosnap.space.snap import Snap
from autosnap.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from autosnap.training.config import TrainConfig


def test_i3posnet_is_the_documented_vgg_network():
    net = I3PosNetLike((24, 46))
    convs = [m for m in net.features.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 32, 64, 64, 128, 128]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules()) == 6
    conv = 9 * (1 * 32 + 32 * 32 + 32 * 64 + 64 * 64 + 64 * 128 + 128 * 128)
    bn = 2 * (32 + 32 + 64 + 64 + 128 + 128)
    head = (128 * 3 * 5 + 1) * 256 + (256 + 1) * 12  # 24x46 -> 3x5 after three poolings
    assert count_params(net) == conv + bn + head
    assert net(torch.zeros(2, 1, 24, 46)).shape == (2, 12)
    with pytest.raises(ValueError, match="too small"):
        I3PosNetLike((4, 4))


def test_random_search_shares_round_0_and_never_repeats(tmp_path):
    search = {"rounds": 3, "children": 5, "max_len": 8, "seed": 4}
    df = random_search_proposals(search, tmp_path / "p.parquet")
    assert len(df) == 15 and df["snap_id"].is_unique and list(df["slot"]) == list(range(15))
    cfg = SearchConfig(**search)
    round0 = propose_round(None, cfg, 0)  # round 0 is random whatever the strategy
    assert list(df[df["round"] == 0]["snap_id"]) == list(round0["snap_id"])


def test_patch_points_map_back_to_the_image():
    pts = np.array([[10.0, 20.0], [33.3, 5.5], [0.0, 0.0]])
    back = from_patch(to_patch(pts, (40.0, 30.0), 23.0, (24, 46)), (40.0, 30.0), 23.0, (24, 46))
    assert np.allclose(back, pts)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "net.pt"
    cfg = TrainConfig(width=4)
    snap = Snap.parse("dup c3 s5 add")
    torch.manual_seed(0)
    model = build_model(snap, (24, 46), **cfg.net_size)
    save_checkpoint(path, model, snap, cfg, (24, 46), {"seed": 0, "params": count_params(model)})
    return path, model


def test_checkpoint_rebuilds_the_same_network(checkpoint):
    path, model = checkpoint
    ck = load_checkpoint(path)
    x = torch.randn(3, 1, 24, 46)
    with torch.no_grad():
        assert torch.equal(ck.model(x), model.eval()(x))
    assert ck.arch.text == "dup c3 s5 add" and ck.kind == "snap"
    hand = path.parent / "hand.pt"
    net = I3PosNetLike((24, 46))
    save_checkpoint(hand, net, HandDesigned("i3posnet"), TrainConfig(), (24, 46), {})
    assert load_checkpoint(hand).kind == "hand"


def test_a_bad_checkpoint_is_named(tmp_path):
    bad = tmp_path / "empty.pt"
    bad.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty.pt"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_export_compares_every_format_and_fails_beyond_the_tolerance(checkpoint, tmp_path):
    path, _ = checkpoint
    files = export_model(path, tmp_path / "ok")
    assert {"model.onnx", "model.torchscript.pt", "model.py", "weights.pt", "MODEL_CARD.md",
            "model_card.json", "export_check.csv"} <= set(files)  # fmt: skip
    checks = pd.read_csv(tmp_path / "ok/export_check.csv")
    assert checks["ok"].all() and (checks["inputs"] == "random").all()
    with pytest.raises(ExportError, match="beyond"):  # a tolerance nothing meets
        export_model(path, tmp_path / "strict", tolerance=-1.0)


def test_pareto_front_keeps_what_nothing_beats():
    cost = np.array([1.0, 2.0, 3.0, 2.0])
    err = np.array([3.0, 1.0, 2.0, 1.0])
    assert list(pareto_front(cost, err)) == [True, True, False, True]


def final_runs(val: dict[str, list[float]]) -> pd.DataFrame:
    """Final runs (candidate x seed) with the given validation errors, all trained."""
    rows = [{"candidate": c, "snap": c if c in ("i3posnet",) else f"{c} snap", "seed": s,
             "status": "ok", "val_landmark_err_mm": v}
            for c, errs in val.items() for s, v in enumerate(errs)]  # fmt: skip
    return pd.DataFrame(rows)


def test_the_pick_is_the_final_validation_mean_not_the_search_order():
    """best1 led the search; on the final retrainings best2 is lower on validation, so it
    is recommended, with its seed of lowest validation error, and the runner-up is
    named when its mean ± sd overlaps."""
    from autosnap.pipeline.recommend import recommend

    pick = recommend(final_runs({"best1": [0.62, 0.63, 0.61], "best2": [0.58, 0.55, 0.60],
                                 "i3posnet": [0.70, 0.71, 0.69]}))  # fmt: skip
    assert (pick.candidate, pick.seed, pick.runner_up) == ("best2", 1, "best1")
    assert pick.val_err_mm == pytest.approx(0.5767, abs=1e-4) and not pick.is_baseline
    assert pick.overlaps is False  # 0.577 + 0.025 < 0.62 - 0.01
    lines = pick.lines("results")
    assert lines[0].startswith("Recommended: best2 (`best2 snap`), seed 1: the lowest")
    assert not any("Runner-up" in x for x in lines)
    assert lines[-1].endswith("autosnap export results --candidate NAME --out DIR")
    close = recommend(final_runs({"best1": [0.60, 0.64], "best2": [0.59, 0.61]}))
    assert close.overlaps and any(x.startswith("Runner-up best1:") for x in close.lines())


def test_a_baseline_that_wins_is_recommended_and_the_user_told(tmp_path):
    from autosnap.errors import InputError
    from autosnap.pipeline.recommend import recommend

    pick = recommend(final_runs({"best1": [1.38, 1.40], "i3posnet": [1.05, 1.09]}))
    assert pick.candidate == "i3posnet" and pick.is_baseline
    assert any("The search did not beat this baseline on this data" in x for x in pick.lines())
    failed = final_runs({"best1": [0.5]}).assign(status="diverged")
    with pytest.raises(InputError, match="no final candidate trained successfully"):
        recommend(failed)
    old = final_runs({"best1": [0.5]}).assign(val_landmark_err_mm=np.nan)
    with pytest.raises(InputError, match="--forcerun final"):
        recommend(old)
