"""Value model and strategies: it learns values, ascent climbs, proposals are new."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import AUTOSNAP, THREADS

from autosnap.search.config import SearchConfig
from autosnap.search.loop import propose_round as propose
from autosnap.search.predictors.value_model import (
    ValueModel,
    ValueModelConfig,
    ValueModelError,
    fit_with_metrics,
)
from autosnap.space import grammar as gr
from autosnap.space.snap import Snap, SnapGrammar, sample_snaps
from autosnap.tables import CHILD_COLUMNS, write_table

MAX_LEN = 10
FAST = ValueModelConfig(steps=500, random_pool=200, hidden=96)


def synthetic_value(snap: Snap) -> float:
    """Non-trivial: rewards 3x3 convs and a residual sum, penalises length and pools."""
    s = snap.symbols
    return 0.3 * s.count("c3") + 0.5 * ("add" in s) - 0.08 * len(s) - 0.2 * s.count("mp")


def history_of(snaps: list[Snap], values: list[float], status: str = "ok") -> pd.DataFrame:
    rows = [
        {c: np.nan for c in CHILD_COLUMNS}
        | {"round": 0, "slot": i, "snap": s.text, "snap_id": s.snap_id, "origin": "random",
           "status": status, "value": v if status == "ok" else np.nan, "seed": 0,
           "device": "cpu", "error": ""}
        for i, (s, v) in enumerate(zip(snaps, values, strict=True))
    ]  # fmt: skip
    return pd.DataFrame(rows)[CHILD_COLUMNS]


@pytest.fixture(scope="module")
def fitted():
    torch.set_num_threads(THREADS)
    snaps = sample_snaps(150, seed=11, max_len=MAX_LEN)
    values = [synthetic_value(s) for s in snaps]
    model, metrics = fit_with_metrics(
        SnapGrammar(max_len=MAX_LEN), [list(s.symbols) for s in snaps], values, FAST
    )
    return snaps, values, model, metrics


def test_predictor_learns_a_synthetic_value_function(fitted):
    *_, metrics = fitted
    assert metrics["n_holdout"] == 30
    assert metrics["kendall_tau"] > 0.5
    assert metrics["spearman_rho"] > 0.6


def test_every_decode_is_valid(fitted):
    *_, model, _ = fitted
    z = torch.randn(64, FAST.latent, generator=torch.Generator().manual_seed(0)) * 2
    for seq in model.decode(z):
        Snap.parse(seq, MAX_LEN)


def test_ascent_proposals_beat_their_seeds_in_predicted_value(fitted):
    snaps, values, model, _ = fitted
    cfg = SearchConfig(max_len=MAX_LEN, children=8)
    df = propose(history_of(snaps, values), cfg, round_=1, model=model)
    ascent = df[df["origin"] == "ascent"]
    assert len(ascent) >= 4
    seeds = model.predict([p.split() for p in ascent["parent"]])
    assert ascent["predicted_value"].mean() > seeds.mean()


@pytest.mark.parametrize("strategy", ["autosnap", "random", "evolution"])
def test_proposals_are_new_distinct_and_reproducible(strategy, fitted):
    snaps, values, model, _ = fitted
    history = history_of(snaps, values)
    cfg = SearchConfig(max_len=MAX_LEN, children=12, strategy=strategy)
    a = propose(history, cfg, round_=2, model=model)
    b = propose(history, cfg, round_=2, model=model)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 12 and a["snap_id"].is_unique
    assert not set(a["snap_id"]) & set(history["snap_id"])
    for snap, sid in zip(a["snap"], a["snap_id"], strict=True):
        assert Snap.parse(snap, MAX_LEN).snap_id == sid
    expected = {"autosnap": {"ascent", "mutation", "random"}, "random": {"random"},
                "evolution": {"evolution", "random"}}[strategy]  # fmt: skip
    assert set(a["origin"]) <= expected
    if strategy == "evolution":
        assert set(a.loc[a["origin"] == "evolution", "parent"]) <= set(history["snap"])


@pytest.mark.parametrize("history", ["empty", "all failed"])
def test_autosnap_without_evaluated_children_falls_back_to_random(history, fitted):
    snaps, values, model, _ = fitted
    hist = None if history == "empty" else history_of(snaps[:5], values[:5], status="diverged")
    df = propose(hist, SearchConfig(max_len=MAX_LEN, children=6), round_=1, model=model)
    assert len(df) == 6 and set(df["origin"]) == {"random"}


def test_corrupt_or_mismatched_model_file_is_a_clear_error(fitted, tmp_path):
    *_, model, _ = fitted
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueModelError, match="model.pt: not a readable value model"):
        ValueModel.load(bad, SnapGrammar(max_len=MAX_LEN))
    model.save(tmp_path / "ok.pt")
    with pytest.raises(ValueModelError, match="max_len 10"):
        ValueModel.load(tmp_path / "ok.pt", SnapGrammar(max_len=12))
    r = subprocess.run([AUTOSNAP, "propose", "--model", str(bad), "--round", "1", "--out",
                        str(tmp_path / "p.parquet")], capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and "not a readable value model" in r.stderr


def test_mutations_are_valid_neighbours():
    import random

    g, rng = SnapGrammar(max_len=MAX_LEN), random.Random(0)
    for snap in sample_snaps(200, seed=2, max_len=MAX_LEN):
        child = gr.mutate(g, list(snap.symbols), rng)
        assert child is not None and child != list(snap.symbols)
        Snap.parse(child, MAX_LEN)
        assert abs(len(child) - len(snap.symbols)) <= 1


@dataclass(frozen=True)
class Brackets:
    """A toy grammar that is not SNAP: balanced brackets around at least one `x`."""

    max_len: int = 8
    symbols: tuple[str, ...] = ("(", ")", "x")

    def initial_state(self):
        return (0, False)

    def advance(self, state, symbol):
        depth, has_x = state
        return (depth + {"(": 1, ")": -1, "x": 0}[symbol], has_x or symbol == "x")

    def allowed(self, state, remaining):
        out = []
        for s in self.symbols:
            depth, has_x = self.advance(state, s)
            need = depth + (0 if has_x else 1)
            out.append(depth >= 0 and need <= remaining - 1)
        return out

    def can_end(self, state):
        return state == (0, True)

    def key(self, symbols):
        return "".join(symbols)


def test_the_value_model_works_on_another_token_grammar():
    g = Brackets()
    seqs = gr.sample_unique(g, 60, seed=0)
    values = [s.count("(") - 0.1 * len(s) for s in seqs]
    model, metrics = fit_with_metrics(g, seqs, values, ValueModelConfig(steps=300, random_pool=50))
    z = torch.randn(32, 16, generator=torch.Generator().manual_seed(1))
    assert all(gr.is_valid(g, s) for s in model.decode(z))
    assert metrics["kendall_tau"] > 0


def test_cli_fit_then_propose(fitted, tmp_path):
    snaps, values, *_ = fitted
    write_table(history_of(snaps[:40], values[:40]), tmp_path / "history.parquet")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"search:\n  max_len: {MAX_LEN}\n  children: 5\n"
                   "value_model:\n  steps: 100\n  random_pool: 20\n")  # fmt: skip
    r = subprocess.run([AUTOSNAP, "fit", "--history", str(tmp_path / "history.parquet"),
                        "--config", str(cfg), "--out", str(tmp_path / "m.pt"), "--metrics",
                        str(tmp_path / "m.parquet"), "--round", "0"],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    metrics = pd.read_parquet(tmp_path / "m.parquet")
    assert {"kendall_tau", "spearman_rho", "recon_acc", "fit_seconds"} <= set(metrics.columns)
    r = subprocess.run([AUTOSNAP, "propose", "--history", str(tmp_path / "history.parquet"),
                        "--model", str(tmp_path / "m.pt"), "--config", str(cfg), "--round", "1",
                        "--out", str(tmp_path / "p.parquet")],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert len(pd.read_parquet(tmp_path / "p.parquet")) == 5
