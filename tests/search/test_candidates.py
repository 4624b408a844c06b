"""The search components of #15: value heads, pretraining, the scored pool, trust region."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import THREADS

from autosnap.config import ConfigError
from autosnap.search.candidates import neighbour_scale, radius_scale, select, source_quota
from autosnap.search.config import MODEL_ADDITIONS, SearchConfig, search_config
from autosnap.search.loop import look_up, propose_round, read_lookup, search
from autosnap.search.predictors.value_model import (
    ValueModelConfig,
    pretrained,
    reconstruction_accuracy,
    train_value_model,
)
from autosnap.search.strategies.autosnap import ADDITIONS, AutosnapConfig
from autosnap.space import grammar as gr
from autosnap.space.snap import Snap, SnapGrammar, enumerate_snaps, sample_snaps
from autosnap.tables import CHILD_COLUMNS

MAX_LEN = 6
GRAMMAR = SnapGrammar(max_len=MAX_LEN)
SMALL = ValueModelConfig(hidden=48, steps=150, random_pool=100, heads=4)


def autosnap(shared: dict | None = None, **settings) -> SearchConfig:
    """A search config of strategy autosnap with `settings` in its section."""
    return search_config({"max_len": MAX_LEN, **(shared or {}), "autosnap": settings})


def value_of(symbols) -> float:
    return 0.3 * symbols.count("c3") + 0.5 * ("add" in symbols) - 0.08 * len(symbols)


def history_of(snaps: list[Snap], rounds: list[int] | None = None,
               origins: list[str] | None = None, values: list[float] | None = None
               ) -> pd.DataFrame:  # fmt: skip
    n = len(snaps)
    rows = [{c: np.nan for c in CHILD_COLUMNS}
            | {"round": (rounds or [0] * n)[i], "slot": i, "snap": s.text, "snap_id": s.snap_id,
               "origin": (origins or ["random"] * n)[i], "status": "ok",
               "value": (values or [value_of(s.symbols) for s in snaps])[i], "seed": 0,
               "device": "cpu", "error": ""}
            for i, s in enumerate(snaps)]  # fmt: skip
    return pd.DataFrame(rows)[CHILD_COLUMNS]


@pytest.fixture(scope="module")
def children():
    torch.set_num_threads(THREADS)
    snaps = sample_snaps(60, seed=5, max_len=MAX_LEN)
    model = train_value_model(GRAMMAR, [list(s.symbols) for s in snaps],
                              [value_of(s.symbols) for s in snaps], SMALL)  # fmt: skip
    return snaps, model


def test_heads_disagree_and_their_mean_is_the_ascent_direction(children):
    snaps, model = children
    others = [list(s.symbols) for s in sample_snaps(40, seed=9, max_len=MAX_LEN)]
    mean, sd = model.predict_spread(others)
    assert (sd > 0).mean() > 0.9  # bootstrap resamples give heads of their own
    np.testing.assert_allclose(mean, model.predict(others), rtol=1e-6)
    w = model.net.value.weight.detach().mean(dim=0)
    torch.testing.assert_close(model.direction(), w / w.norm())
    z = model.encode(others)
    # the mean of the heads grows along the direction: it is itself a linear head
    assert (model.predict_latent(z + 0.5 * model.direction()) > model.predict_latent(z)).all()


def test_one_head_has_no_spread(children):
    snaps, _ = children
    one = train_value_model(GRAMMAR, [list(s.symbols) for s in snaps],
                            [value_of(s.symbols) for s in snaps],
                            replace(SMALL, heads=1, steps=50))  # fmt: skip
    _, sd = one.predict_spread([list(s.symbols) for s in snaps[:5]])
    assert (sd == 0).all()


def test_a_pretrained_autoencoder_decodes_what_a_few_children_cannot_teach():
    """A round's fit on 20 children reconstructs held-out SNAPs far better when it starts
    from the grammar's pretrained auto-encoder than from scratch (the #15 finding:
    held-out reconstruction fell to 0-20 % with fits from scratch)."""
    torch.set_num_threads(THREADS)
    cfg = ValueModelConfig(hidden=64, steps=100, random_pool=0, lr=1e-2, pretrain_steps=800,
                           pretrain_pool=3000)  # fmt: skip
    base = pretrained(GRAMMAR, cfg)
    snaps = sample_snaps(20, seed=1, max_len=MAX_LEN)
    seqs, values = [list(s.symbols) for s in snaps], [value_of(s.symbols) for s in snaps]
    held_out = [list(s.symbols) for s in sample_snaps(60, seed=2, max_len=MAX_LEN)]
    pool = gr.sample_unique(GRAMMAR, 400, 5, exclude={GRAMMAR.key(s) for s in seqs})
    warm = train_value_model(GRAMMAR, seqs, values, cfg, pool, init=base)
    cold = train_value_model(GRAMMAR, seqs, values, cfg, pool)
    acc_warm = reconstruction_accuracy(warm, held_out)
    acc_cold = reconstruction_accuracy(cold, held_out)
    assert acc_warm > acc_cold + 0.3, (acc_warm, acc_cold)


def test_pretraining_is_once_per_grammar_and_pretraining_settings():
    cfg = ValueModelConfig(hidden=16, embed=8, latent=4, pretrain_steps=5, pretrain_pool=50)
    first = pretrained(GRAMMAR, cfg)
    # what only the rounds' fits read does not pretrain again
    assert pretrained(GRAMMAR, replace(cfg, steps=7, heads=3, random_pool=9)) is first
    assert pretrained(GRAMMAR, replace(cfg, pretrain_pool=60)) is not first
    assert pretrained(SnapGrammar(max_len=4), cfg) is not first
    assert pretrained(GRAMMAR, replace(cfg, pretrain_steps=0)) is None


def test_selection_takes_the_best_scores_with_a_cap_per_parent():
    cands = pd.DataFrame({"snap": list("abcdefg"), "parent": ["p", "p", "p", "q", "", "", "q"],
                          "score": [9, 8, 7, 6, 5, 4, 3]})  # fmt: skip
    assert select(cands, 4, per_parent=1)["snap"].tolist() == ["a", "d", "e", "f"]
    assert select(cands, 4, per_parent=2)["snap"].tolist() == ["a", "b", "d", "e"]


def test_selection_by_quota_takes_each_origins_best_then_the_best_of_the_rest():
    cands = pd.DataFrame({"snap": list("abcdefg"), "parent": ["p", "p", "p", "q", "", "", "q"],
                          "origin": ["ascent"] * 3 + ["evolution", "random", "random", "evolution"],
                          "score": [9, 8, 7, 6, 5, 4, 3]})  # fmt: skip
    quota = {"ascent": 1, "evolution": 2, "random": 1}
    assert select(cands, 4, 2, quota)["snap"].tolist() == ["a", "d", "e", "g"]
    # evolution has two candidates only: its third place goes to the best of the rest
    quota = {"ascent": 1, "evolution": 3}
    assert select(cands, 4, 2, quota)["snap"].tolist() == ["a", "d", "g", "b"]
    assert select(cands, 4, 1, quota)["snap"].tolist() == ["a", "d", "e", "f"]


def test_sources_that_succeeded_get_more_of_the_picks():
    """A source whose children entered the top set gets the larger quota; untried
    sources keep a share (the prior); the quota always adds up to K."""
    snaps = sample_snaps(30, seed=3, max_len=MAX_LEN)
    rounds = [0] * 10 + [1] * 10 + [2] * 10
    origins = ["random"] * 10 + (["ascent"] * 5 + ["evolution"] * 5) * 2
    # every ascent child entered the top set, no evolution child did
    values = [0.5] * 10 + [1.0] * 5 + [0.0] * 5 + [2.0] * 5 + [0.0] * 5
    cfg = AutosnapConfig(top=5, candidates=50, source_credit=True)
    rng = np.random.default_rng(0)
    quota = source_quota(history_of(snaps, rounds, origins, values), cfg, 10, rng)
    assert sum(quota.values()) == 10 and set(quota) == set(cfg.sources)
    assert quota["ascent"] > max(quota["mutation"], quota["random"])
    assert min(quota["mutation"], quota["random"]) > quota["evolution"]
    assert abs(quota["mutation"] - quota["random"]) <= 1  # untried: the prior alone
    # round 0 alone: the prior, 2.5 each, the odd places to the sources in their order
    first = source_quota(history_of(snaps[:10]), cfg, 10, rng)
    assert first == {"ascent": 3, "mutation": 3, "evolution": 2, "random": 2}


def test_thompson_credit_concentrates_on_the_source_with_evidence():
    """Thompson sampling gives each pick to the source with the highest posterior draw:
    with no evidence the picks scatter, with a source that succeeded 30 times in 30 and
    others that failed it takes nearly all; the draws are the round's, so reproducible."""
    snaps = sample_snaps(100, seed=5, max_len=MAX_LEN)
    rounds = [0] * 10 + [1] * 90
    origins = ["random"] * 10 + ["ascent"] * 30 + ["mutation", "evolution", "random"] * 20
    values = [0.5] * 10 + [1.0 + i for i in range(30)] + [0.0] * 60
    cfg = AutosnapConfig(top=5, candidates=50, source_credit=True, credit_rule="thompson")
    history = history_of(snaps, rounds, origins, values)

    def rng(seed: int) -> np.random.Generator:
        return np.random.default_rng(seed)

    quota = source_quota(history, cfg, 10, rng(2))
    assert sum(quota.values()) == 10 and quota["ascent"] >= 9
    assert quota == source_quota(history, cfg, 10, rng(2))
    # round 0 alone: uniform posteriors; over rounds every source gets picks
    spread = [source_quota(history_of(snaps[:10]), cfg, 10, rng(r)) for r in range(5)]
    assert all(sum(q.values()) == 10 for q in spread)
    assert all(sum(q[s] for q in spread) > 0 for s in cfg.sources)
    with pytest.raises(ConfigError, match="credit_rule"):
        search_config({"autosnap": {"credit_rule": "greedy"}})


@pytest.mark.parametrize("trust_radius", [0.0, 1.0])
def test_the_scored_pool_proposes_k_new_valid_snaps_reproducibly(children, trust_radius):
    snaps, model = children
    history = history_of(snaps)
    cfg = autosnap(top=6, candidates=120, per_parent=2, beta=1.0, trust_radius=trust_radius)
    props = propose_round(history, cfg, 1, model, k=10)
    again = propose_round(history, cfg, 1, model, k=10)
    pd.testing.assert_frame_equal(props, again)
    assert len(props) == 10 and props["snap_id"].is_unique
    assert not set(props["snap_id"]) & set(history["snap_id"])
    assert all(gr.is_valid(GRAMMAR, s.split()) for s in props["snap"])
    assert set(props["origin"]) <= {"ascent", "mutation", "evolution", "random"}
    assert props[props["parent"] != ""].groupby("parent").size().max() <= 2
    if trust_radius:  # every ascent step is a whole number of radii, at most max_steps
        r = trust_radius * neighbour_scale(model, history["snap"].tolist())
        steps = props.loc[props["origin"] == "ascent", "step"] / r
        np.testing.assert_allclose(steps, steps.round(), atol=1e-6)
        assert (steps <= cfg.settings().max_steps + 1e-6).all()


@pytest.mark.parametrize("sources", [("evolution",), ("ascent", "evolution"), ("mutation",)])
def test_the_pool_holds_only_its_sources(children, sources):
    """A pool without `random` has no random SNAPs but to make up K; every other origin
    is one of its sources, and its pick is still K new SNAPs."""
    snaps, model = children
    cfg = autosnap(top=6, candidates=120, per_parent=3, sources=list(sources))
    props = propose_round(history_of(snaps), cfg, 1, model, k=8)
    assert len(props) == 8 and props["snap_id"].is_unique
    assert set(props["origin"]) <= {*sources, "random"}
    assert (props["origin"] != "random").sum() >= 6  # 120 candidates: K is made up without


def test_a_pool_source_that_does_not_exist_is_named():
    with pytest.raises(ConfigError, match=r"search.autosnap: sources .*'tabu'"):
        autosnap(candidates=10, sources=["ascent", "tabu"])


def test_the_pool_picks_what_the_model_prefers(children):
    """The proposals are the best-predicted of the pool: on average far above random
    valid SNAPs, by the model's own scoring."""
    snaps, model = children
    cfg = autosnap(top=6, candidates=200, per_parent=3)
    props = propose_round(history_of(snaps), cfg, 1, model, k=8)
    randoms = model.predict(gr.sample_unique(GRAMMAR, 200, 4, 1, MAX_LEN))
    assert props["predicted_value"].mean() > np.quantile(randoms, 0.9)


def test_the_trust_region_grows_after_ascent_successes_and_shrinks_after_failures():
    snaps = sample_snaps(30, seed=3, max_len=MAX_LEN)
    rounds = [0] * 20 + [1] * 10
    origins = ["random"] * 20 + ["ascent"] * 10
    good = history_of(snaps, rounds, origins, [0.0] * 20 + [1.0] * 10)
    bad = history_of(snaps, rounds, origins, [1.0] * 20 + [0.0] * 10)
    assert radius_scale(good, 5) == 2.0
    assert radius_scale(bad, 5) == 0.5
    assert radius_scale(history_of(snaps[:20]), 5) == 1.0  # no ascent round yet


def test_a_table_search_runs_every_component_on_members_only():
    """Every addition on at once (scored pool, UCB heads, trust region, pretraining),
    through the one round loop, on a table of every SNAP up to 3 symbols."""
    snaps = enumerate_snaps(3)
    table = read_lookup(pd.DataFrame({"snap_id": [s.snap_id for s in snaps],
                                      "value": [value_of(s.symbols) for s in snaps]}))  # fmt: skip
    vm = ValueModelConfig(hidden=32, steps=30, random_pool=30, heads=3, pretrain_steps=20,
                          pretrain_pool=100)  # fmt: skip
    cfg = search_config(
        {
            "rounds": 3,
            "children": 6,
            "max_len": 3,
            "seed": 3,
            "autosnap": {"top": 6, "candidates": 60, "beta": 1.0, "trust_radius": 1.0},
        }
    )
    rounds = list(search(cfg, vm, lambda p: look_up(p, table)))
    history = rounds[-1].history
    assert len(history) == 18 and history["snap_id"].is_unique
    assert (history["status"] == "ok").all() and history["snap_id"].isin(table.index).all()
    assert set(history.loc[history["round"] > 0, "origin"]) - {"random"}  # the pool picked


def test_the_additions_are_config_keys_whose_defaults_are_autosnaps_engine():
    """The benchmarks strip ADDITIONS from a config to run the paper's engine as
    `autosnap`: every key must be a field of its section, and its default the engine's."""
    for keys, cls in ((ADDITIONS, AutosnapConfig), (MODEL_ADDITIONS, ValueModelConfig)):
        names = {f.name for f in fields(cls)}
        assert set(keys) <= names, set(keys) - names
    engine = SearchConfig().settings()
    assert engine.candidates == 0 and not engine.source_credit and engine.beta == 0
    assert engine.trust_radius == 0 and ValueModelConfig().heads == 1
    assert ValueModelConfig().pretrain_steps == 0
