"""The SNAP language: symbols on a stack of tensors that define one network block.

This module is pure Python (no torch) so that parsing, identity and sampling are cheap
everywhere: in the proposer, in the workflow's DAG construction, in tests.

Identity: many strings build the same graph (`dup c3 add` and `dup c3 swap add`).
A SNAP compiles to a DAG of operations; `add` and `cat` are commutative (for `cat`,
because a 1x1 convolution follows that can absorb any channel order); the DAG is
written as one canonical string, and `snap_id` is a short hash of that string.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from autosnap.errors import InputError
from autosnap.space import grammar

#: Longest SNAP accepted unless a config says otherwise.
DEFAULT_MAX_LEN = 16


@dataclass(frozen=True)
class Symbol:
    """One SNAP symbol: how many tensors it pops and pushes, and whether it has weights."""

    name: str
    pops: int
    pushes: int
    weighted: bool
    doc: str


SYMBOLS: dict[str, Symbol] = {
    s.name: s
    for s in (
        Symbol("c1", 1, 1, True, "1x1 conv, BN, ReLU"),
        Symbol("c3", 1, 1, True, "3x3 conv, BN, ReLU"),
        Symbol("s3", 1, 1, True, "3x3 depthwise-separable conv, BN, ReLU"),
        Symbol("s5", 1, 1, True, "5x5 depthwise-separable conv, BN, ReLU"),
        Symbol("d3", 1, 1, True, "3x3 conv with dilation 2, BN, ReLU"),
        Symbol("mp", 1, 1, False, "3x3 max pool, stride 1"),
        Symbol("ap", 1, 1, False, "3x3 average pool, stride 1"),
        Symbol("dup", 1, 2, False, "push a copy of the top"),
        Symbol("swap", 2, 2, False, "exchange the top two"),
        Symbol("add", 2, 1, False, "element-wise sum"),
        Symbol("cat", 2, 1, True, "channel concatenation, then 1x1 conv back to C, BN, ReLU"),
    )
}
#: Operations that become nodes of the DAG (stack manipulation does not).
UNARY_OPS = ("c1", "c3", "s3", "s5", "d3", "mp", "ap")
MERGE_OPS = ("add", "cat")
WEIGHTED = tuple(s.name for s in SYMBOLS.values() if s.weighted)
INPUT = "x"


class SnapError(InputError):
    """An invalid SNAP, naming the 1-based position, the symbol and the reason."""

    def __init__(self, text: str, position: int | None, symbol: str | None, reason: str):
        self.text = text
        self.position = position
        self.symbol = symbol
        self.reason = reason
        where = f"position {position} '{symbol}': " if position is not None else ""
        super().__init__(f"invalid SNAP '{text}': {where}{reason}")


def tokenize(text: str | Sequence[str]) -> list[str]:
    """Symbols of a SNAP given as text (`"dup c3 add"`) or as a sequence of symbols."""
    if isinstance(text, str):
        return text.lower().split()
    return [s.lower() for s in text]


def validate(symbols: Sequence[str], max_len: int = DEFAULT_MAX_LEN) -> None:
    """Raise SnapError unless `symbols` is a valid SNAP of at most `max_len` symbols."""
    text = " ".join(symbols)
    if not symbols:
        raise SnapError(text, None, None, "empty: expected at least one symbol")
    depth = 1
    for pos, sym in enumerate(symbols, start=1):
        spec = SYMBOLS.get(sym)
        if spec is None:
            raise SnapError(text, pos, sym, f"unknown symbol, expected one of {' '.join(SYMBOLS)}")
        if depth < spec.pops:
            raise SnapError(
                text,
                pos,
                sym,
                f"stack underflow: needs {spec.pops} tensors, the stack holds {depth}",
            )
        depth += spec.pushes - spec.pops
    if len(symbols) > max_len:
        raise SnapError(
            text,
            max_len + 1,
            symbols[max_len],
            f"too long: {len(symbols)} symbols, at most {max_len} allowed",
        )
    if depth != 1:
        raise SnapError(
            text,
            len(symbols),
            symbols[-1],
            f"{depth} tensors left on the stack at the end, expected exactly 1 "
            f"(add or cat merge two)",
        )
    if not any(SYMBOLS[s].weighted for s in symbols):
        raise SnapError(
            text, None, None, f"no symbol with weights, expected one of {' '.join(WEIGHTED)}"
        )


@dataclass(frozen=True)
class Node:
    """An operation of the block DAG; `inputs` are indices of earlier nodes (0 = block input)."""

    op: str
    inputs: tuple[int, ...] = ()


@dataclass(frozen=True)
class Dag:
    """Block graph in topological order: node 0 is the input, the last node the output."""

    nodes: tuple[Node, ...]

    @property
    def output(self) -> int:
        return len(self.nodes) - 1


def compile_dag(symbols: Sequence[str]) -> Dag:
    """Run the stack machine over already validated symbols and record the operations."""
    nodes: list[Node] = [Node(INPUT)]
    stack = [0]
    for sym in symbols:
        if sym == "dup":
            stack.append(stack[-1])
        elif sym == "swap":
            stack[-1], stack[-2] = stack[-2], stack[-1]
        elif sym in MERGE_OPS:
            b, a = stack.pop(), stack.pop()
            nodes.append(Node(sym, (a, b)))
            stack.append(len(nodes) - 1)
        else:
            nodes.append(Node(sym, (stack.pop(),)))
            stack.append(len(nodes) - 1)
    (out,) = stack
    if out != len(nodes) - 1:
        # Only possible for a SNAP without operations, which validate() rejects.
        raise AssertionError("output is not the last node")
    return Dag(tuple(nodes))


class _Canonicaliser:
    """Canonical serialisation of a DAG, invariant under reordering of commutative inputs.

    A node is written `op(arg,...)`; a node used more than once is written `#k=op(...)`
    the first time and `#k` after, so sharing (one conv used twice) and twins (two convs
    with the same shape) give different strings. Inputs of add/cat are ordered by the
    canonical string of their own sub-graph; where two different inputs tie, both orders
    are tried and the smaller whole string wins, which keeps the result canonical.
    """

    def __init__(self, dag: Dag):
        self.dag = dag
        self._keys: dict[int, str] = {}

    def key(self, root: int) -> str:
        """Canonical string of the sub-graph rooted at `root`, taken on its own."""
        if root not in self._keys:
            self._keys[root] = self.serialise(root)[0]
        return self._keys[root]

    def serialise(self, root: int) -> tuple[str, list[int], dict[int, tuple[int, ...]]]:
        """(string, nodes in post-order, ordered inputs per node) for the sub-graph."""
        nodes = self.dag.nodes
        uses: dict[int, int] = {}
        reach: list[int] = []
        stack, seen = [root], {root}
        while stack:
            n = stack.pop()
            reach.append(n)
            for i in nodes[n].inputs:
                uses[i] = uses.get(i, 0) + 1
                if i not in seen:
                    seen.add(i)
                    stack.append(i)
        orders: dict[int, tuple[int, ...]] = {}
        ties: list[int] = []
        for n in reach:
            ins = nodes[n].inputs
            if nodes[n].op in MERGE_OPS:
                a, b = sorted(ins, key=self.key)
                orders[n] = (a, b)
                if a != b and self.key(a) == self.key(b):
                    ties.append(n)
            else:
                orders[n] = ins
        best: tuple[str, list[int], dict[int, tuple[int, ...]]] | None = None
        for flips in itertools.product((False, True), repeat=len(ties)):
            trial = dict(orders)
            for n, flip in zip(ties, flips, strict=True):
                if flip:
                    trial[n] = trial[n][::-1]
            text, post = self._write(root, trial, uses)
            if best is None or text < best[0]:
                best = (text, post, trial)
        assert best is not None
        return best

    def _write(
        self, root: int, orders: dict[int, tuple[int, ...]], uses: dict[int, int]
    ) -> tuple[str, list[int]]:
        labels: dict[int, int] = {}
        post: list[int] = []

        def visit(n: int) -> str:
            node = self.dag.nodes[n]
            if node.op == INPUT:
                return INPUT
            if n in labels:
                return f"#{labels[n]}"
            body = f"{node.op}({','.join(visit(i) for i in orders[n])})"
            post.append(n)
            if uses.get(n, 0) > 1:
                labels[n] = len(labels) + 1
                return f"#{labels[n]}={body}"
            return body

        return visit(root), post


def canonicalise(dag: Dag) -> tuple[str, Dag]:
    """Canonical string of a block DAG and the DAG renumbered in that canonical order.

    The renumbered DAG is what SNAPNet builds, so SNAPs with one `snap_id` give
    modules with identical parameter layouts."""
    text, post, orders = _Canonicaliser(dag).serialise(dag.output)
    new_index = {0: 0} | {old: i + 1 for i, old in enumerate(post)}
    nodes = [Node(INPUT)] + [
        Node(dag.nodes[old].op, tuple(new_index[i] for i in orders[old])) for old in post
    ]
    return text, Dag(tuple(nodes))


def hash_id(canonical: str) -> str:
    """Short stable id of a canonical string (first 12 hex digits of its SHA-1)."""
    return hashlib.sha1(canonical.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Snap:
    """A validated SNAP with its identity."""

    symbols: tuple[str, ...]

    @classmethod
    def parse(cls, text: str | Sequence[str], max_len: int = DEFAULT_MAX_LEN) -> Snap:
        """Parse and validate; raises SnapError naming position, symbol and reason."""
        symbols = tokenize(text)
        validate(symbols, max_len)
        return cls(tuple(symbols))

    @property
    def text(self) -> str:
        return " ".join(self.symbols)

    @cached_property
    def _canonical(self) -> tuple[str, Dag]:
        return canonicalise(compile_dag(self.symbols))

    @property
    def canonical(self) -> str:
        return self._canonical[0]

    @property
    def dag(self) -> Dag:
        """The block graph in canonical order."""
        return self._canonical[1]

    @property
    def snap_id(self) -> str:
        return hash_id(self.canonical)

    def __str__(self) -> str:
        return self.text


def snap_id(text: str | Sequence[str], max_len: int = DEFAULT_MAX_LEN) -> str:
    """`snap_id` of a SNAP given as text or symbols."""
    return Snap.parse(text, max_len).snap_id


@dataclass(frozen=True)
class SnapGrammar:
    """The SNAP language as a token grammar (stack depth and "has weights" are the state)."""

    max_len: int = DEFAULT_MAX_LEN
    symbols: tuple[str, ...] = tuple(SYMBOLS)

    def initial_state(self) -> tuple[int, bool]:
        return (1, False)

    def advance(self, state: tuple[int, bool], symbol: str) -> tuple[int, bool]:
        depth, weighted = state
        spec = SYMBOLS[symbol]
        return (depth - spec.pops + spec.pushes, weighted or spec.weighted)

    @staticmethod
    def _min_to_finish(depth: int, weighted: bool) -> int:
        """Fewest symbols that turn this state into a valid end (depth 1, has weights)."""
        if weighted or depth >= 2:  # merges reduce the depth; a cat also brings weights
            return depth - 1
        return 1

    def allowed(self, state: tuple[int, bool], remaining: int) -> list[bool]:
        depth, _ = state
        mask = []
        for sym in self.symbols:
            spec = SYMBOLS[sym]
            if spec.pops > depth:
                mask.append(False)
                continue
            d, w = self.advance(state, sym)
            mask.append(self._min_to_finish(d, w) <= remaining - 1)
        return mask

    def can_end(self, state: tuple[int, bool]) -> bool:
        return state == (1, True)

    def key(self, symbols: Sequence[str]) -> str:
        return Snap(tuple(symbols)).snap_id


def sample_snaps(
    n: int,
    seed: int,
    max_len: int = DEFAULT_MAX_LEN,
    min_len: int = 1,
    exclude: Iterable[str] = (),
) -> list[Snap]:
    """`n` valid SNAPs, pairwise different by `snap_id` and not in `exclude` (snap_ids);
    the same list for the same arguments."""
    g = SnapGrammar(max_len=max_len)
    seqs = grammar.sample_unique(g, n, seed, min_len, max_len, exclude=frozenset(exclude))
    return [Snap(tuple(s)) for s in seqs]


def enumerate_snaps(max_len: int, symbols: Sequence[str] = tuple(SYMBOLS)) -> list[Snap]:
    """Every architecture of at most `max_len` of `symbols` once: one SNAP per `snap_id`,
    the first in (length, symbol order) order, listed in that order. A closed space small
    enough to train whole (all symbols up to 4: 3,377 members; without `ap`: 2,016)."""
    g = SnapGrammar(max_len=max_len, symbols=tuple(symbols))
    found: dict[str, Snap] = {}
    level = [((), g.initial_state())]
    for _ in range(max_len):
        nxt = []
        for seq, state in level:
            for sym, ok in zip(g.symbols, g.allowed(state, max_len - len(seq)), strict=True):
                if ok:
                    nxt.append(((*seq, sym), g.advance(state, sym)))
        for seq, state in nxt:
            if g.can_end(state):
                snap = Snap(seq)
                found.setdefault(snap.snap_id, snap)
        level = nxt
    return list(found.values())
