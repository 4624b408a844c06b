"""Local search, the baseline White et al. (2021) found hard to beat on NAS benchmarks:
climb over one-symbol edits, in batches of K, by first improvement, and restart from
random SNAPs when a neighbourhood holds nothing better.

First improvement, not best: the climb moves as soon as a batch holds a better
neighbour, without evaluating the rest of the neighbourhood (which for a 12-symbol SNAP
takes many rounds of K). White et al.'s restart at a local optimum is kept.

In batch form, K children a round, and stateless: where the climb stands is replayed
from the history (`position`), so the workflow's propose job needs nothing else.

- The climb starts at the best child of round 0 (random SNAPs, as for every strategy).
- A round proposes up to K untried neighbours of the position (`grammar.neighbours`) in
  an order shuffled with the round's generator (origin `local`, the position as
  parent). When fewer than K are left, the rest of the round is random SNAPs (origin
  `restart`).
- After a round the position moves to its best evaluated neighbour if that is better
  (the best of the neighbours evaluated so far, whichever round evaluated them). If none
  is better and every neighbour is tried, the position is a local optimum: the climb
  restarts at the best restart SNAP of that round, or, where the round had none, the
  next round is K restart SNAPs and the climb starts again at their best.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from autosnap.search.history import evaluated
from autosnap.search.proposals import Proposals
from autosnap.search.strategies import Strategy, register
from autosnap.space import grammar as gr

#: Origins of the children a climb can start from: round 0's and the restarts.
STARTS = ("random", "restart")


@functools.lru_cache(maxsize=4096)
def _neighbourhood(grammar: gr.TokenGrammar, snap: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(s) for s in gr.neighbours(grammar, snap.split()))


def neighbour_keys(grammar: gr.TokenGrammar, snap: str) -> set[str]:
    return {grammar.key(list(s)) for s in _neighbourhood(grammar, snap)}


def _best(children: pd.DataFrame) -> pd.Series | None:
    return None if children.empty else children.loc[children["value"].idxmax()]


def position(history: pd.DataFrame | None, grammar: gr.TokenGrammar) -> pd.Series | None:
    """The child the climb stands on after the history's last round (None: restart)."""
    if history is None or history.empty:
        return None
    ok = evaluated(history)
    here = None
    for r in sorted(history["round"].unique()):
        done = ok[ok["round"] <= r]
        starts = done[(done["round"] == r) & done["origin"].isin(STARTS)]
        if here is None:
            here = _best(starts)
            continue
        around = neighbour_keys(grammar, here["snap"])
        better = done[done["snap_id"].isin(around) & (done["value"] > here["value"])]
        if not better.empty:
            here = _best(better)
        elif around <= set(history.loc[history["round"] <= r, "snap_id"]):
            here = _best(starts)
    return here


@register
class Local(Strategy):
    name = "local"

    def propose(self, history: pd.DataFrame | None, k: int, rng: np.random.Generator
                ) -> Proposals:  # fmt: skip
        props = self.proposals(history, k)
        here = position(history, self.grammar)
        if here is not None:
            untried = [s for s in _neighbourhood(self.grammar, here["snap"])
                       if self.grammar.key(list(s)) not in props.known]  # fmt: skip
            for i in rng.permutation(len(untried)):
                props.add(untried[i], "local", parent=here["snap"])
        props.add_random(k - len(props), rng, self.lengths, origin="restart")
        return props
