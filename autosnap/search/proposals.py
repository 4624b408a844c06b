"""The small library every strategy builds its proposals with.

A strategy collects new, distinct SNAPs in a `Proposals` (a key already trained, or
already proposed this round, is refused), from the generators here (random SNAPs,
mutations of given parents, tournament children), and returns it. It never calls back
into the loop or another strategy; the loop tops a short round up with random SNAPs and
turns the rows into the round's proposals table (`table`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import pandas as pd

from autosnap.search.history import evaluated, known_ids
from autosnap.seeds import draw_seed
from autosnap.space import grammar as gr
from autosnap.tables import PROPOSAL_COLUMNS

#: Extra proposal columns (beyond docs/design.md's): the seed SNAP and latent step of a row.
EXTRA_COLUMNS = ["parent", "step"]


class Proposals:
    """New, distinct SNAPs with the rule (`origin`) and parent that made each; at most
    `k` of them (None: no limit, for a pool that is scored before K are taken)."""

    def __init__(self, grammar: gr.TokenGrammar, history: pd.DataFrame | None | set[str],
                 k: int | None = None):  # fmt: skip
        self.grammar, self.k = grammar, k
        self.known = set(history) if isinstance(history, set) else known_ids(history)
        self.rows: list[dict] = []

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def full(self) -> bool:
        return self.k is not None and len(self.rows) >= self.k

    def add(self, seq: Sequence[str] | None, origin: str, parent: str = "",
            step: float = float("nan"), predicted_value: float = float("nan")) -> bool:  # fmt: skip
        """Add `seq` if it is new and there is room; whether it was added."""
        if seq is None or self.full:
            return False
        key = self.grammar.key(list(seq))
        if key in self.known:
            return False
        self.known.add(key)
        self.rows.append({"snap": " ".join(seq), "snap_id": key, "origin": origin,
                          "parent": parent, "step": step,
                          "predicted_value": predicted_value})  # fmt: skip
        return True

    def add_random(self, n: int, rng: np.random.Generator, lengths: tuple[int, int],
                   origin: str = "random") -> None:  # fmt: skip
        """Up to `n` new uniform random SNAPs of lengths `lengths` (min, max)."""
        if n <= 0 or self.full:
            return
        for seq in gr.sample_unique(self.grammar, n, draw_seed(rng), *lengths,
                                    exclude=self.known, at_most=True):  # fmt: skip
            self.add(seq, origin)

    def add_mutations(self, parents: Sequence[str], n: int, rng: np.random.Generator,
                      origin: str = "mutation") -> None:  # fmt: skip
        """Up to `n` new one-symbol mutations of `parents`, round robin, until 50 misses
        in a row."""
        r = random.Random(draw_seed(rng))
        start, misses, i = len(self.rows), 0, 0
        while parents and len(self.rows) - start < n and not self.full and misses < 50:
            parent = parents[i % len(parents)]
            got = self.add(gr.mutate(self.grammar, parent.split(), r), origin, parent=parent)
            misses = 0 if got else misses + 1
            i += 1

    def add_tournament_children(self, history: pd.DataFrame | None, population: int,
                                tournament: int, n: int, rng: np.random.Generator,
                                origin: str = "evolution") -> None:  # fmt: skip
        """Up to `n` children as regularised (aging) evolution makes them: a mutation of
        the best of `tournament` random members of the `population` most recent
        successful children."""
        pop = evaluated(history).tail(population)
        r = random.Random(draw_seed(rng))
        start, misses = len(self.rows), 0
        while not pop.empty and len(self.rows) - start < n and not self.full and misses < 100:
            entrants = pop.iloc[[r.randrange(len(pop)) for _ in range(tournament)]]
            parent = entrants.iloc[int(entrants["value"].to_numpy().argmax())]["snap"]
            got = self.add(gr.mutate(self.grammar, parent.split(), r), origin, parent=parent)
            misses = 0 if got else misses + 1

    def frame(self) -> pd.DataFrame:
        """The rows as a table (columns snap, snap_id, origin, parent, step,
        predicted_value), also when empty."""
        cols = ["snap", "snap_id", "origin", "parent", "step", "predicted_value"]
        return pd.DataFrame(self.rows, columns=cols)


def table(props: Proposals, round_: int) -> pd.DataFrame:
    """The proposals table of a round (PROPOSAL_COLUMNS + EXTRA_COLUMNS), slots in the
    order the rows were added."""
    df = props.frame()
    df["parent"] = df["parent"].fillna("")
    df.insert(0, "round", round_)
    df.insert(1, "slot", range(len(df)))
    return df[PROPOSAL_COLUMNS + EXTRA_COLUMNS]
