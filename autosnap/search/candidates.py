"""autosnap's scored candidate pool: many candidates per round, the model picks K.

AutoSNAP's engine proposes by latent ascent alone: step from the best SNAPs along the
value head's direction and decode. Taken first come, and filled with unscreened
mutations when ascent runs dry, that search is only as good as one direction of an
overfitted model. Here (`search.autosnap.candidates` > 0) each round instead gathers

- ascent decodes: every new decode of the walk from each of the `top` best SNAPs
  (unbounded growing steps, or the trust region's bounded, re-encoded steps),
- mutations of the best SNAPs,
- tournament children as regularised evolution makes them,
- random SNAPs,

scores all of them with the value model (the heads' mean, plus `beta` times their
spread: an upper confidence bound), and takes the best K with at most `per_parent`
from one parent. `origin` says which rule made each; the model, not the order of
generation, decides. This is the project's addition (after BANANAS' acquisition over
mutations and NAO/SemiNAS' many decodes per round), not the AutoSNAP paper's.
`search.autosnap.sources` names the generators a pool is made of.

Credit per source (`search.autosnap.source_credit`): the best K of one pool are mostly ascent
decodes (62-71 % of the picks on SNAP-Bench and NAS-Bench-Graph alike, in the
exploration of commit 030ff7b), since ascent makes exactly the sequences the linear head
scores highest. Where the model ranks them, that pays (SNAP-Bench: Kendall tau 0.34
within the ascent decodes, 43 % of the ascent picks beat the search's best); where it
does not (NAS-Bench-Graph: tau -0.04 and 0.06 within them, 0.13-0.24 within the other
sources), most of a round is chosen by a model that cannot tell those candidates
apart. So the K picks are instead shared among the sources by how often each source's
children entered the top set in the rounds before (probability matching, as adaptive
operator selection does), and the model picks the best within each: it still screens,
but the history, not the model, decides how far to trust ascent. `search.autosnap.credit_rule`
"thompson" gives each pick to the source with the highest Beta-posterior draw instead
(shares that concentrate as the evidence grows): level with matching on every table,
ahead of it against evolution on three of four NAS-Bench-Graph seed sets at 100
queries, behind it on the demo's 5 seeds (2 of 5 at least evolution's, against 3), so a
switch (the same exploration).

Trust region (`search.autosnap.trust_radius` > 0): a step is `trust_radius` times the median
distance between the children's codes and their nearest neighbours (the local scale of
the data, so a step means the same in every round and every model), taken
`max_steps` times, each from the re-encoded decode of the last (so the walk stays on
codes the decoder knows); the radius doubles after a round whose ascent children did
well and halves after one where none did.

With few children that step is long: their nearest neighbours are far apart (in a demo
round of 8, one step was as long as a typical code, 3.1 latent units where a mutation
moves a code about 1.4), so walks go 6-35 units out and the linear head ranks the
farthest decodes first. Bounding every candidate to a region of 2 mutations around the
top SNAPs (commit 8034175, `search.region`) was measured and not kept: worse than this
at 50 queries on SNAP-Bench (1/12/7, p = 0.14) and cora (3/5/12, p = 0.038), better only
on citeseer (12/0/8, p = 0.22); the far picks are exploration that pays on the tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from autosnap.progress import log
from autosnap.search.history import evaluated, ranked
from autosnap.search.proposals import Proposals
from autosnap.space import grammar as gr

if TYPE_CHECKING:
    from autosnap.search.predictors.value_model import ValueModel
    from autosnap.search.strategies.autosnap import AutosnapConfig


def entered_top(history: pd.DataFrame | None, top: int) -> pd.DataFrame:
    """The successful children of every round but the first, each with `entered`:
    whether it beat the entry value of the `top` best children of the rounds before its
    own. That is what counts as a success of the rule (`origin`) that proposed it.

    With `top` = K, round 1's bar is the worst round-0 child, so nearly every round-1
    child is a success and round 2's shares come out about equal. A bar of at most half
    the children before was measured (exploration of commit 030ff7b) and not kept:
    level on seeds 0-19 everywhere, but behind this bar on the held-out seeds
    20-39 (cora 4/5/11 at 100 queries, p = 0.018; citeseer 4/7/9, p = 0.11)."""
    ok = evaluated(history)
    rounds = []
    if not ok.empty and "origin" in ok.columns:
        for r in sorted(ok["round"].unique())[1:]:
            entry = ok.loc[ok["round"] < r, "value"].nlargest(top).min()
            now = ok[ok["round"] == r]
            rounds.append(now.assign(entered=now["value"] > entry))
    return pd.concat(rounds) if rounds else ok.iloc[:0].assign(origin="", entered=False)


def radius_scale(history: pd.DataFrame | None, top: int) -> float:
    """2**m, m in [-2, 2]: +1 for every round in which at least a third of the ascent
    children beat the entry value of the top set before it, -1 for every round in which
    none did (the trust region's adaptation by success, read from the history)."""
    done = entered_top(history, top)
    m = 0
    for _, share in done[done["origin"] == "ascent"].groupby("round")["entered"].mean().items():
        m = min(2, m + 1) if share >= 1 / 3 else max(-2, m - 1) if share == 0 else m
    return 2.0**m


def source_quota(history: pd.DataFrame | None, cfg: AutosnapConfig, k: int,
                 rng: np.random.Generator) -> dict[str, int]:  # fmt: skip
    """How many of the K picks each pool source gets, from the source's successes and
    tries in earlier rounds (`entered_top`) with a Beta(1, 1) prior, so an untried
    source keeps a chance. `cfg.credit_rule` "matching": shares in proportion to the
    posterior mean rate, rounded by largest remainder (probability matching, as adaptive
    operator selection does); "thompson": each pick goes to the source with the highest
    draw from its Beta posterior (from the round's generator), which concentrates on the best
    source as its evidence grows where matching keeps every source near its rate."""
    done = entered_top(history, cfg.top)
    wins = {s: int(done.loc[done["origin"] == s, "entered"].sum()) for s in cfg.sources}
    tries = {s: int((done["origin"] == s).sum()) for s in cfg.sources}
    if cfg.credit_rule == "thompson":
        a = np.array([wins[s] + 1 for s in cfg.sources], dtype=float)
        b = np.array([tries[s] - wins[s] + 1 for s in cfg.sources], dtype=float)
        picks = rng.beta(a[:, None], b[:, None], size=(len(a), k)).argmax(axis=0)
        return {s: int((picks == i).sum()) for i, s in enumerate(cfg.sources)}
    rate = {s: (wins[s] + 1) / (tries[s] + 2) for s in cfg.sources}
    exact = {s: k * r / sum(rate.values()) for s, r in rate.items()}
    quota = {s: int(v) for s, v in exact.items()}
    by_remainder = sorted(cfg.sources, key=lambda s: quota[s] - exact[s])
    for s in by_remainder[: k - sum(quota.values())]:
        quota[s] += 1
    return quota


def neighbour_scale(model: ValueModel, snaps: list[str]) -> float:
    """Median distance from each child's code to its nearest other child's code."""
    import torch

    codes = model.encode([s.split() for s in snaps])
    if len(codes) < 2:
        return 1.0
    d = torch.cdist(codes, codes)
    d.fill_diagonal_(float("inf"))
    return float(d.min(dim=1).values.median().clamp(min=1e-3))


def ascent(pool: Proposals, model: ValueModel, best: list[str], cfg: AutosnapConfig,
           radius: float) -> None:  # fmt: skip
    """Every new valid decode of the walks up the value direction from `best`."""
    import torch

    z = model.encode([s.split() for s in best])
    direction = model.direction()
    previous = list(best)
    for j in range(cfg.max_steps):
        if radius > 0:  # trust region: one bounded step from where the walk stands
            eta = [radius * (j + 1)] * len(best)
            z_next = z + radius * direction
        else:  # AutoSNAP: growing steps from the seed
            eta = [cfg.step * cfg.growth**j] * len(best)
            z_next = z + eta[0] * direction
        seqs = model.decode(z_next)
        for parent, step, seq in zip(best, eta, seqs, strict=True):
            if gr.is_valid(pool.grammar, seq):
                pool.add(seq, "ascent", parent=parent, step=step)
        if radius > 0:
            moved = [" ".join(s) != p for s, p in zip(seqs, previous, strict=True)]
            if any(moved):
                recoded = model.encode(seqs)
                keep = torch.tensor(moved)[:, None]
                z_next = torch.where(keep, recoded, z_next)
            previous = [" ".join(s) for s in seqs]
            z = z_next


def select(cands: pd.DataFrame, k: int, per_parent: int,
           quota: dict[str, int] | None = None) -> pd.DataFrame:  # fmt: skip
    """The best `k` by score, at most `per_parent` from one parent (random candidates
    have none); with `quota`, at most `quota[origin]` of each origin first, then the
    best of the rest for the places an origin could not fill."""
    taken, count, used = [], {}, {}
    order = cands.sort_values("score", ascending=False, kind="stable")
    for limits in ([quota] if quota else []) + [None]:
        for i, row in order.iterrows():
            p, o = row["parent"], row["origin"] if quota else ""
            if i in taken or (p and count.get(p, 0) >= per_parent):
                continue
            if limits is not None and used.get(o, 0) >= limits.get(o, 0):
                continue
            count[p], used[o] = count.get(p, 0) + 1, used.get(o, 0) + 1
            taken.append(i)
            if len(taken) == k:
                return cands.loc[taken]
    return cands.loc[taken]


def scored_pool(history: pd.DataFrame | None, cfg: AutosnapConfig, k: int, model: ValueModel,
                pool: Proposals, lengths: tuple[int, int], rng: np.random.Generator
                ) -> tuple[pd.DataFrame, float]:  # fmt: skip
    """About `cfg.candidates` new candidates from `cfg.sources` (added to the empty
    `pool`), each with its origin, parent, predicted value and score; and the trust
    region's radius (0: none)."""
    best = ranked(history)["snap"].head(cfg.top).tolist()
    radius = 0.0
    if cfg.trust_radius > 0:
        radius = cfg.trust_radius * neighbour_scale(model, evaluated(history)["snap"].tolist())
        radius *= radius_scale(history, cfg.top)
    if "ascent" in cfg.sources:
        ascent(pool, model, best, cfg, radius)
    # the pool's rest in equal shares, random SNAPs (when a source) topping it up
    share = max(cfg.candidates - len(pool), 0) // max(len(set(cfg.sources) - {"ascent"}), 1)
    if "mutation" in cfg.sources:
        pool.add_mutations(best, share, rng)
    if "evolution" in cfg.sources:
        pool.add_tournament_children(history, cfg.population, cfg.tournament, share, rng)
    # random SNAPs: the rest of the pool and K more (they have no parent, so the cap per
    # parent never leaves the pick short), or, not a source, only what K still lacks
    rest = cfg.candidates - len(pool)
    pool.add_random(max(rest, k) if "random" in cfg.sources else k - len(pool), rng, lengths)
    cands = pool.frame()
    mean, sd = model.predict_spread([s.split() for s in cands["snap"]])
    cands["predicted_value"] = mean
    cands["score"] = mean + cfg.beta * sd
    if cfg.scores == "random":  # the control: the same pool, ranked by chance
        cands["score"] = rng.random(len(cands))
    return cands, radius


def scored_proposals(history: pd.DataFrame | None, cfg: AutosnapConfig, props: Proposals,
                     model: ValueModel, lengths: tuple[int, int],
                     rng: np.random.Generator) -> None:  # fmt: skip
    """Fill `props` (K places) from a scored pool of about `cfg.candidates` candidates."""
    k = props.k or 0
    pool = Proposals(props.grammar, set(props.known))
    cands, radius = scored_pool(history, cfg, k, model, pool, lengths, rng)
    quota = source_quota(history, cfg, k, rng) if cfg.source_credit else None
    picked = select(cands, k, cfg.per_parent, quota)
    log.info(
        "autosnap candidates: %d (%d ascent, radius %.3f), quota %s, picked %s",
        len(cands), int((cands["origin"] == "ascent").sum()), radius, quota or "none",
        ", ".join(f"{o} {n}" for o, n in picked["origin"].value_counts().items()),
    )  # fmt: skip
    for row in picked.itertuples():
        props.add(row.snap.split(), row.origin, parent=row.parent, step=row.step,
                  predicted_value=float(row.predicted_value))  # fmt: skip
