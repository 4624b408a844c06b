"""Search strategies: propose K new SNAPs from the history of trained children.

All share one interface and one budget (K children per round), so they compare fairly:
`autosnap` (latent ascent on the value model), `random` (uniform valid SNAPs),
`evolution` (regularised, aging evolution with token mutations), `local` (local search,
autosnap.search.local) and `bananas` (an MLP ensemble with Thompson sampling,
autosnap.search.bananas). Every proposal is new: its snap_id is in neither the history
nor the proposals before it.

AutoSNAP ascent: encode the best SNAPs, step along the value direction w of the linear
head with a growing step size (step * growth**j) until the decode is new. If fewer than
K new SNAPs come out, the rest are filled by mutations of the best, then random SNAPs;
the `origin` column says which rule made each row. With `search.candidates` the round
instead scores a pool of candidates and takes the best K (autosnap.search.candidates).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from autosnap.progress import log
from autosnap.search.bananas import bananas_proposals
from autosnap.search.candidates import scored_proposals
from autosnap.search.config import STRATEGIES, SearchConfig
from autosnap.search.history import evaluated, known_ids, ranked
from autosnap.search.local import local_proposals
from autosnap.space import grammar as gr
from autosnap.tables import PROPOSAL_COLUMNS

if TYPE_CHECKING:  # the model arrives as an argument; importing it would load torch
    from autosnap.search.predictors.value_model import ValueModel
#: Extra proposal columns (beyond docs/design.md's): the seed SNAP and latent step of a row.
EXTRA_COLUMNS = ["parent", "step"]


class _Proposals:
    """Accumulates new, distinct proposals."""

    def __init__(self, grammar: gr.TokenGrammar, known: set[str], k: int):
        self.grammar, self.known, self.k = grammar, set(known), k
        self.rows: list[dict] = []

    @property
    def full(self) -> bool:
        return len(self.rows) >= self.k

    def add(self, seq: list[str] | None, origin: str, **extra) -> bool:
        if seq is None or self.full:
            return False
        key = self.grammar.key(seq)
        if key in self.known:
            return False
        self.known.add(key)
        self.rows.append({"snap": " ".join(seq), "snap_id": key, "origin": origin, **extra})
        return True


def fill_random(props: _Proposals, cfg: SearchConfig, seed: int, origin: str = "random") -> None:
    need = props.k - len(props.rows)
    if need > 0:
        for seq in gr.sample_unique(props.grammar, need, seed, cfg.min_len, cfg.max_len,
                                    exclude=props.known):  # fmt: skip
            props.add(seq, origin)


def fill_mutations(props: _Proposals, best: list[str], rng: random.Random, tries: int = 50) -> None:
    """Mutations of the best SNAPs, round robin, until full or `tries` misses in a row."""
    misses = 0
    i = 0
    while best and not props.full and misses < tries:
        parent = best[i % len(best)].split()
        if props.add(gr.mutate(props.grammar, parent, rng), "mutation", parent=" ".join(parent)):
            misses = 0
        else:
            misses += 1
        i += 1


def propose_random(
    history: pd.DataFrame | None, cfg: SearchConfig, k: int, round_: int, grammar: gr.TokenGrammar
) -> _Proposals:
    props = _Proposals(grammar, known_ids(history), k)
    fill_random(props, cfg, cfg.round_seed(round_))
    return props


def propose_evolution(
    history: pd.DataFrame | None, cfg: SearchConfig, k: int, round_: int, grammar: gr.TokenGrammar
) -> _Proposals:
    """Aging evolution in batch form: the population is the `population` most recent
    successful children; each proposal mutates the best of a random tournament."""
    rng = random.Random(cfg.round_seed(round_))
    props = _Proposals(grammar, known_ids(history), k)
    pop = evaluated(history).tail(cfg.population)
    if pop.empty:
        log.warning("evolution: no successful child yet, proposing random SNAPs")
    misses = 0
    while not pop.empty and not props.full and misses < 100:
        entrants = pop.iloc[[rng.randrange(len(pop)) for _ in range(cfg.tournament)]]
        parent = entrants.iloc[int(entrants["value"].to_numpy().argmax())]
        child = gr.mutate(props.grammar, parent["snap"].split(), rng)
        misses = 0 if props.add(child, "evolution", parent=parent["snap"]) else misses + 1
    fill_random(props, cfg, cfg.round_seed(round_))
    return props


def propose_local(
    history: pd.DataFrame | None, cfg: SearchConfig, k: int, round_: int, grammar: gr.TokenGrammar
) -> _Proposals:
    """Untried neighbours of the climb's position, then restart SNAPs (autosnap.search.local)."""
    props = _Proposals(grammar, known_ids(history), k)
    for seq, origin, parent in local_proposals(history, grammar, props.known, k,
                                               cfg.round_seed(round_)):  # fmt: skip
        props.add(seq, origin, parent=parent)
    fill_random(props, cfg, cfg.round_seed(round_), origin="restart")
    return props


def propose_bananas(
    history: pd.DataFrame | None, cfg: SearchConfig, k: int, round_: int, grammar: gr.TokenGrammar
) -> _Proposals:
    """The K best Thompson draws of an MLP ensemble over mutations of the best, then
    random SNAPs (autosnap.search.bananas)."""
    props = _Proposals(grammar, known_ids(history), k)
    for row in bananas_proposals(history, cfg, grammar, props.known, k, cfg.round_seed(round_)):
        props.add(row.pop("snap").split(), **row)
    fill_random(props, cfg, cfg.round_seed(round_))
    return props


def propose_autosnap(
    history: pd.DataFrame | None,
    cfg: SearchConfig,
    k: int,
    round_: int,
    model: ValueModel | None,
    grammar: gr.TokenGrammar,
) -> _Proposals:
    """Latent ascent from the best SNAPs, then the documented fallback."""
    import torch

    rng = random.Random(cfg.round_seed(round_))
    props = _Proposals(grammar, known_ids(history), k)
    ok = evaluated(history)
    if model is None or model.n_evaluated < 2 or len(ok) < 2:
        log.warning("autosnap: no value model trained on at least 2 children; round-0 logic "
                    "(random SNAPs)")  # fmt: skip
        fill_random(props, cfg, cfg.round_seed(round_))
        return props
    if cfg.candidates > 0:
        for row in scored_proposals(history, cfg, k, round_, model, grammar, props.known):
            props.add(row.pop("snap").split(), **{c: v for c, v in row.items() if c != "snap_id"})
        fill_random(props, cfg, cfg.round_seed(round_))
        return props
    best = ranked(history)["snap"].head(cfg.top).tolist()
    z0 = model.encode([s.split() for s in best])
    floor = model.predict_latent(z0)  # a proposal must be predicted better than its seed
    direction = model.direction()
    step_index = [0] * len(best)
    decodes = valid = 0
    distinct: set[str] = set()
    while not props.full and any(j <= cfg.max_steps for j in step_index):
        active = [i for i, j in enumerate(step_index) if j <= cfg.max_steps]
        steps = torch.tensor([cfg.step * cfg.growth ** step_index[i] for i in active])
        z = z0[active] + steps[:, None] * direction
        seqs = model.decode(z)
        predicted = model.predict(seqs)
        for i, eta, seq, pred in zip(active, steps.tolist(), seqs, predicted, strict=True):
            decodes += 1
            step_index[i] += 1
            if not gr.is_valid(props.grammar, seq):
                continue
            valid += 1
            distinct.add(props.grammar.key(seq))
            if pred > floor[i]:
                props.add(seq, "ascent", parent=best[i], step=eta, predicted_value=float(pred))
    n_ascent = len(props.rows)
    log.info(
        "autosnap ascent: %d decodes, validity %.2f, uniqueness %.2f, novelty %.2f; "
        "%d of %d proposals from ascent",
        decodes, valid / max(decodes, 1), len(distinct) / max(valid, 1),
        n_ascent / max(len(distinct), 1), n_ascent, k,
    )  # fmt: skip
    fill_mutations(props, best, rng)
    fill_random(props, cfg, cfg.round_seed(round_))
    return props


def propose(
    history: pd.DataFrame | None,
    cfg: SearchConfig,
    round_: int,
    model: ValueModel | None = None,
    k: int | None = None,
    strategy: str | None = None,
    grammar: gr.TokenGrammar | None = None,
) -> pd.DataFrame:
    """The proposals table of a round: K rows with new keys (snap_ids), each with its
    origin. `grammar` defaults to SNAP; any token grammar works (see benchmarks/)."""
    k = cfg.children if k is None else k
    strategy = strategy or cfg.strategy
    grammar = grammar or cfg.grammar
    if strategy == "random":
        props = propose_random(history, cfg, k, round_, grammar)
    elif strategy == "evolution":
        props = propose_evolution(history, cfg, k, round_, grammar)
    elif strategy == "local":
        props = propose_local(history, cfg, k, round_, grammar)
    elif strategy == "bananas":
        props = propose_bananas(history, cfg, k, round_, grammar)
    elif strategy == "autosnap":
        props = propose_autosnap(history, cfg, k, round_, model, grammar)
    else:
        raise ValueError(f"unknown strategy '{strategy}', expected one of {STRATEGIES}")
    df = pd.DataFrame(props.rows)
    for col in ("predicted_value", *EXTRA_COLUMNS):
        if col not in df.columns:
            df[col] = np.nan if col != "parent" else ""
    df["parent"] = df["parent"].fillna("")
    df.insert(0, "round", round_)
    df.insert(1, "slot", range(len(df)))
    if model is not None and strategy == "autosnap":
        missing = df["predicted_value"].isna()
        if missing.any():
            df.loc[missing, "predicted_value"] = model.predict(
                [s.split() for s in df.loc[missing, "snap"]]
            )
    assert len(df) == k and df["snap_id"].is_unique
    return df[PROPOSAL_COLUMNS + EXTRA_COLUMNS]
