"""The baselines a NAS researcher expects, as strategies a user can pick: local search
(one-symbol edits, first improvement, restarts), a BANANAS-style MLP ensemble with
Thompson sampling; and the controls that isolate autosnap's model: its pool ranked by
chance, and a bag-of-symbols linear model in place of the auto-encoder."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from autosnap.config import ConfigError
from autosnap.errors import InputError
from autosnap.search.candidates import scored_pool
from autosnap.search.config import SearchConfig, ValueModelConfig, check_pair, search_config
from autosnap.search.history import ranked
from autosnap.search.loop import look_up, read_lookup, search
from autosnap.search.predictors.bag_model import BagModel, fit_bag
from autosnap.search.predictors.ensemble import fit_ensemble
from autosnap.search.predictors.value_model import load_model, train_value_model
from autosnap.search.proposals import Proposals
from autosnap.search.rank import kendall
from autosnap.search.strategies.autosnap import AutosnapConfig
from autosnap.search.strategies.local import neighbour_keys, position
from autosnap.space import grammar as gr
from autosnap.space.snap import SYMBOLS, SnapGrammar, enumerate_snaps, sample_snaps

GRAMMAR = SnapGrammar(max_len=3)


def value_of(symbols) -> float:
    return 0.3 * symbols.count("c3") + 0.5 * ("add" in symbols) - 0.2 * symbols.count("mp")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """Every SNAP of at most 3 symbols, valued by its symbols, with a little noise so
    the space has many local optima."""
    snaps = enumerate_snaps(3, tuple(SYMBOLS))
    rng = np.random.default_rng(1)
    return read_lookup(pd.DataFrame({
        "snap": [s.text for s in snaps], "snap_id": [s.snap_id for s in snaps],
        "value": [value_of(s.symbols) + 0.05 * rng.normal() for s in snaps],
    }))  # fmt: skip


def run(table: pd.DataFrame, **settings) -> list:
    return list(search_rounds(search_config({"max_len": 3, **settings}), table))


def search_rounds(cfg: SearchConfig, table: pd.DataFrame):
    return search(cfg, ValueModelConfig(), lambda p: look_up(p, table), GRAMMAR)


def test_neighbours_are_the_one_edit_sequences_mutation_draws_from():
    seq, g5 = ["dup", "c3", "c3", "add"], SnapGrammar(max_len=5)
    found = gr.neighbours(g5, seq)
    keys = [g5.key(s) for s in found]
    assert len(keys) == len(set(keys)) and g5.key(seq) not in keys
    assert all(gr.is_valid(g5, s) for s in found)
    assert all(abs(len(s) - len(seq)) <= 1 for s in found)
    # one architecture, one neighbour: "dup c3 add" may come as "dup c3 swap add"
    assert {g5.key(["dup", "c1", "c3", "add"]), g5.key(["dup", "c3", "add"])} <= set(keys)
    rng = random.Random(0)
    drawn = {g5.key(gr.mutate(g5, seq, rng)) for _ in range(300)}
    assert drawn - {g5.key(seq)} <= set(keys)


def test_local_search_climbs_by_first_improvement_and_restarts_at_a_local_optimum(table):
    rounds = run(table, strategy="local", rounds=30, children=6)
    restarts = 0
    for before, rnd in zip(rounds, rounds[1:], strict=False):
        here = position(before.history, GRAMMAR)
        props = rnd.proposals
        local = props[props["origin"] == "local"]
        assert set(props["origin"]) <= {"local", "restart"}
        if here is None:  # a restart round: K fresh random SNAPs
            assert (props["origin"] == "restart").all()
            restarts += 1
            continue
        # the round tries untried neighbours of where the climb stands, first
        assert (local["parent"] == here["snap"]).all()
        assert set(local["snap_id"]) <= neighbour_keys(GRAMMAR, here["snap"])
        assert (props["origin"] == "restart").sum() == 0 or len(local) < len(props)
        after = position(rnd.history, GRAMMAR)
        around = neighbour_keys(GRAMMAR, here["snap"])
        ok = rnd.history[rnd.history["status"] == "ok"]
        better = ok[ok["snap_id"].isin(around) & (ok["value"] > here["value"])]
        if len(better):  # first improvement: the best better neighbour evaluated so far
            assert after["snap_id"] == better.loc[better["value"].idxmax(), "snap_id"]
        elif around <= set(rnd.history["snap_id"]):  # a local optimum: restart
            assert after is None or after["origin"] == "restart"
            restarts += after is not None
        else:
            assert after["snap_id"] == here["snap_id"]
    assert restarts >= 1  # 180 queries of a 422-member space reach a local optimum
    again = run(table, strategy="local", rounds=30, children=6)
    pd.testing.assert_frame_equal(rounds[-1].history, again[-1].history)


def test_local_search_finds_more_than_random_search(table):
    best = {s: [ranked(run(table, strategy=s, rounds=8, children=6, seed=seed)[-1].history)
                ["value"].iloc[0] for seed in range(6)] for s in ("local", "random")}  # fmt: skip
    assert np.mean(best["local"]) > np.mean(best["random"])


def test_the_bananas_ensemble_ranks_unseen_snaps():
    grammar = SnapGrammar(max_len=6)
    snaps = sample_snaps(160, seed=2, max_len=6)
    seqs = [s.symbols for s in snaps]
    y = np.array([value_of(s.symbols) for s in snaps])

    def fitted():
        return fit_ensemble(grammar, seqs[:60], y[:60], 5, np.random.default_rng(0))

    pred = fitted().predict_all(seqs[60:])
    assert pred.shape == (5, 100)
    assert kendall(pred.mean(axis=0), y[60:]) > 0.5
    assert (pred.std(axis=0) > 0).all()  # members differ: the draws have a spread
    np.testing.assert_array_equal(pred, fitted().predict_all(seqs[60:]))


def test_bananas_proposes_thompson_picks_among_mutations_of_the_best(table):
    cfg = search_config({"max_len": 3, "strategy": "bananas", "rounds": 3, "children": 6,
                         "bananas": {"top": 4, "candidates": 30}})  # fmt: skip
    rounds = list(search_rounds(cfg, table))
    for before, rnd in zip(rounds, rounds[1:], strict=False):
        props = rnd.proposals
        picked = props[props["origin"] == "bananas"]
        assert len(picked) == 6 and picked["predicted_value"].notna().all()
        best = set(ranked(before.history)["snap"].head(4))
        assert set(picked["parent"]) <= best
        for p in picked.itertuples():
            assert p.snap_id in neighbour_keys(GRAMMAR, p.parent)
    again = list(search_rounds(cfg, table))
    pd.testing.assert_frame_equal(rounds[-1].history, again[-1].history)


def test_the_random_score_control_keeps_the_pool_and_drops_the_model():
    grammar = SnapGrammar(max_len=6)
    snaps = sample_snaps(40, seed=5, max_len=6)
    torch.manual_seed(0)
    model = train_value_model(grammar, [list(s.symbols) for s in snaps],
                              [value_of(s.symbols) for s in snaps],
                              ValueModelConfig(hidden=32, steps=60, random_pool=50))  # fmt: skip
    values = [value_of(s.symbols) for s in snaps]
    history = pd.DataFrame({"round": 0, "slot": range(40), "snap": [s.text for s in snaps],
                            "snap_id": [s.snap_id for s in snaps], "origin": "random",
                            "status": "ok", "value": values})  # fmt: skip
    cfg = AutosnapConfig(top=6, candidates=100, source_credit=True)

    def pool(settings: AutosnapConfig) -> pd.DataFrame:
        empty = Proposals(grammar, history)
        rng = np.random.default_rng(1)
        return scored_pool(history, settings, 8, model, empty, (1, 6), rng)[0]

    scored, chance = pool(cfg), pool(replace(cfg, scores="random"))
    pd.testing.assert_frame_equal(scored.drop(columns="score"), chance.drop(columns="score"))
    assert kendall(scored["score"], scored["predicted_value"]) == pytest.approx(1.0)
    assert abs(kendall(chance["score"], chance["predicted_value"])) < 0.3


def test_a_bananas_config_without_a_pool_is_refused_by_name():
    with pytest.raises(ConfigError, match="bananas.candidates: .* at least search.children"):
        check_pair(search_config({"strategy": "bananas", "children": 8,
                                  "bananas": {"candidates": 4}}), ValueModelConfig())  # fmt: skip
    with pytest.raises(ConfigError, match="search.autosnap: scores must be one of"):
        search_config({"autosnap": {"scores": "oracle"}})


def test_the_bag_of_symbols_control_ranks_by_counts_and_searches_without_ascent(table):
    snaps = sample_snaps(80, seed=3, max_len=6)
    model, metrics = fit_bag(SnapGrammar(max_len=6), [s.symbols for s in snaps],
                             [value_of(s.symbols) for s in snaps])  # fmt: skip
    assert metrics["train_kendall_tau"] > 0.8 and np.isnan(metrics["recon_acc"])
    vm = ValueModelConfig(kind="bag")
    pool = {"candidates": 40, "source_credit": True, "sources": ["mutation", "evolution", "random"]}
    cfg = search_config({"max_len": 3, "rounds": 3, "children": 6, "autosnap": pool})
    rounds = list(search(cfg, vm, lambda p: look_up(p, table), GRAMMAR))
    assert isinstance(rounds[0].model, BagModel)
    assert set(rounds[-1].proposals["origin"]) <= {"mutation", "evolution", "random"}
    assert rounds[-1].proposals["predicted_value"].notna().all()
    with pytest.raises(ConfigError, match="bag has no latent space.*sources"):
        next(search(search_config({"max_len": 3, "autosnap": {"candidates": 40}}), vm,
                    lambda p: look_up(p, table), GRAMMAR))  # fmt: skip


def test_a_bag_model_file_loads_back_as_the_same_model(tmp_path):
    grammar = SnapGrammar(max_len=6)
    snaps = sample_snaps(30, seed=4, max_len=6)
    model, _ = fit_bag(grammar, [s.symbols for s in snaps], [value_of(s.symbols) for s in snaps])
    back = load_model(model.save(tmp_path / "value_model.pt"), grammar)
    probe = [s.symbols for s in sample_snaps(20, seed=9, max_len=6)]
    np.testing.assert_array_equal(back.predict(probe), model.predict(probe))
    with pytest.raises(InputError, match="not for this grammar"):
        load_model(tmp_path / "value_model.pt", SnapGrammar(max_len=5))
