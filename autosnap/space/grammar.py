"""Token grammars: the interface the sampler, the auto-encoder and the strategies share.

A grammar says which token may come next so that the sequence can still be completed
to a valid program within the remaining length. Sampling, decoding and mutation all
use this one mask, so everything they produce is valid by construction. SNAP is one
grammar (autosnap.space.snap); other search spaces (a public NAS benchmark) are others.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Sequence
from typing import Protocol

PAD = 0
END = 1
#: Token ids below this are reserved (padding, end); symbol i has id i + N_SPECIAL.
N_SPECIAL = 2


class TokenGrammar(Protocol):
    """A language of symbol sequences with a completability mask."""

    #: The symbols, in token-id order (id = index + N_SPECIAL).
    symbols: tuple[str, ...]
    #: Longest sequence the grammar allows.
    max_len: int

    def initial_state(self) -> Hashable:
        """Parser state before the first symbol."""

    def advance(self, state: Hashable, symbol: str) -> Hashable:
        """State after `symbol`; only called with allowed symbols."""

    def allowed(self, state: Hashable, remaining: int) -> list[bool]:
        """Mask over symbols: may this symbol come next with `remaining` positions left
        (this one included) and the sequence still be completable?"""

    def can_end(self, state: Hashable) -> bool:
        """May the sequence stop here?"""

    def key(self, symbols: Sequence[str]) -> str:
        """Identity of the program: equal keys mean the same architecture."""


def vocab_size(grammar: TokenGrammar) -> int:
    """Number of token ids including the special ones."""
    return len(grammar.symbols) + N_SPECIAL


def token_mask(grammar: TokenGrammar, state: Hashable, remaining: int) -> list[bool]:
    """Mask over the full vocabulary (PAD never, END when the sequence may stop)."""
    ok_end = grammar.can_end(state)
    if remaining <= 0:
        return [False, ok_end] + [False] * len(grammar.symbols)
    return [False, ok_end, *grammar.allowed(state, remaining)]


def encode(grammar: TokenGrammar, symbols: Sequence[str], length: int | None = None) -> list[int]:
    """Token ids of `symbols`, then END, then PAD up to `length` (default max_len + 1)."""
    length = grammar.max_len + 1 if length is None else length
    index = {s: i + N_SPECIAL for i, s in enumerate(grammar.symbols)}
    ids = [index[s] for s in symbols] + [END]
    if len(ids) > length:
        raise ValueError(f"sequence of {len(symbols)} symbols does not fit in {length} tokens")
    return ids + [PAD] * (length - len(ids))


def decode(grammar: TokenGrammar, ids: Sequence[int]) -> list[str]:
    """Symbols of a token sequence, up to the first END or PAD."""
    out = []
    for t in ids:
        if t in (END, PAD):
            break
        out.append(grammar.symbols[t - N_SPECIAL])
    return out


def build_sequence(
    grammar: TokenGrammar, length: int, choose: Callable[[list[str]], str]
) -> list[str]:
    """A valid sequence of exactly `length` symbols, `choose` picking each among the
    symbols the mask allows (a random generator in sampling, hypothesis in tests)."""
    state = grammar.initial_state()
    out: list[str] = []
    for pos in range(length):
        # Completable within the remaining length implies completable in exactly that
        # length for grammars with a unary filler symbol (SNAP has seven).
        mask = grammar.allowed(state, length - pos)
        choices = [s for s, ok in zip(grammar.symbols, mask, strict=True) if ok]
        if not choices:
            raise RuntimeError(f"grammar has no completion of length {length}")
        sym = choose(choices)
        out.append(sym)
        state = grammar.advance(state, sym)
    if not grammar.can_end(state):
        raise RuntimeError(f"grammar produced an incomplete sequence {out}")
    return out


def sample_sequence(
    grammar: TokenGrammar, rng: random.Random, min_len: int, max_len: int
) -> list[str]:
    """One valid sequence: a length uniform in [min_len, max_len], then a symbol uniform
    among those the mask allows at each position."""
    return build_sequence(grammar, rng.randint(min_len, max_len), rng.choice)


def sample_unique(
    grammar: TokenGrammar,
    n: int,
    seed: int,
    min_len: int = 1,
    max_len: int | None = None,
    exclude: set[str] | frozenset[str] = frozenset(),
    max_misses: int = 5000,
    at_most: bool = False,
) -> list[list[str]]:
    """`n` valid sequences with pairwise different keys (and none in `exclude`).

    Deterministic for a seed. Raises ValueError when the space is too small to hold
    `n` new distinct programs (detected by `max_misses` rejected draws in a row); with
    `at_most`, returns the ones found instead."""
    max_len = grammar.max_len if max_len is None else max_len
    if not 1 <= min_len <= max_len <= grammar.max_len:
        raise ValueError(
            f"length bounds must satisfy 1 <= min_len <= max_len <= {grammar.max_len}, "
            f"got min_len={min_len}, max_len={max_len}"
        )
    rng = random.Random(seed)
    seen = set(exclude)
    out: list[list[str]] = []
    misses = 0
    while len(out) < n:
        seq = sample_sequence(grammar, rng, min_len, max_len)
        k = grammar.key(seq)
        if k in seen:
            misses += 1
            if misses > max_misses:
                if at_most:
                    break
                raise ValueError(
                    f"found only {len(out)} of {n} distinct programs with lengths "
                    f"{min_len}..{max_len}: the space is too small or exhausted"
                )
            continue
        misses = 0
        seen.add(k)
        out.append(seq)
    return out


def is_valid(grammar: TokenGrammar, symbols: Sequence[str]) -> bool:
    """Whether `symbols` is a complete valid sequence, checked through the mask alone."""
    if not 1 <= len(symbols) <= grammar.max_len:
        return False
    index = {s: i for i, s in enumerate(grammar.symbols)}
    state = grammar.initial_state()
    for pos, sym in enumerate(symbols):
        i = index.get(sym)
        if i is None or not grammar.allowed(state, grammar.max_len - pos)[i]:
            return False
        state = grammar.advance(state, sym)
    return grammar.can_end(state)


def mutate(
    grammar: TokenGrammar, symbols: Sequence[str], rng: random.Random, tries: int = 100
) -> list[str] | None:
    """A valid neighbour: one symbol replaced, inserted or deleted (None if `tries`
    random edits all give invalid sequences)."""
    for _ in range(tries):
        seq = list(symbols)
        op = rng.choice(("replace", "insert", "delete"))
        if op == "replace":
            seq[rng.randrange(len(seq))] = rng.choice(grammar.symbols)
        elif op == "insert":
            seq.insert(rng.randrange(len(seq) + 1), rng.choice(grammar.symbols))
        elif len(seq) > 1:
            del seq[rng.randrange(len(seq))]
        if seq != list(symbols) and is_valid(grammar, seq):
            return seq
    return None


def neighbours(grammar: TokenGrammar, symbols: Sequence[str]) -> list[list[str]]:
    """Every valid sequence one edit away (one symbol replaced, inserted or deleted), one
    per architecture (key), the sequence's own architecture excluded; in a fixed order,
    so a search that shuffles it with its own seed stays reproducible. The neighbourhood
    `mutate` draws from, enumerated for local search."""
    seq = list(symbols)
    edits = [seq[:i] + [s] + seq[i + 1 :] for i in range(len(seq)) for s in grammar.symbols]
    edits += [seq[:i] + [s] + seq[i:] for i in range(len(seq) + 1) for s in grammar.symbols]
    edits += [seq[:i] + seq[i + 1 :] for i in range(len(seq))]
    seen, out = {grammar.key(seq)}, []
    for e in edits:
        if is_valid(grammar, e) and (k := grammar.key(e)) not in seen:
            seen.add(k)
            out.append(e)
    return out
