"""The SNAP language: validation errors, identity, the completability mask, sampling."""

from __future__ import annotations

import itertools
import re

import pytest
from conftest import snaps
from hypothesis import given, settings

from autosnap.space import grammar
from autosnap.space.snap import (
    MERGE_OPS,
    SYMBOLS,
    Dag,
    Node,
    Snap,
    SnapError,
    SnapGrammar,
    canonicalise,
    compile_dag,
    sample_snaps,
    snap_id,
    validate,
)


def parse_canonical(text: str) -> Dag:
    """Rebuild a DAG from its canonical string (test-only inverse of canonicalise)."""
    tokens = re.findall(r"#\d+=|#\d+|[a-z0-9]+|[(),]", text)
    nodes = [Node("x")]
    labels: dict[str, int] = {}
    pos = 0

    def expr() -> int:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok.endswith("="):
            idx = expr()
            labels[tok[:-1]] = idx
            return idx
        if tok.startswith("#"):
            return labels[tok]
        if tok == "x":
            return 0
        assert tokens[pos] == "("
        pos += 1
        args = [expr()]
        while tokens[pos] == ",":
            pos += 1
            args.append(expr())
        assert tokens[pos] == ")"
        pos += 1
        nodes.append(Node(tok, tuple(args)))
        return len(nodes) - 1

    expr()
    return Dag(tuple(nodes))


# --- identity -------------------------------------------------------------------------


def test_swap_before_add_is_the_same_architecture():
    assert snap_id("dup c3 add") == snap_id("dup c3 swap add")


def test_swap_that_moves_a_conv_to_another_branch_is_different():
    # add(c3(c3(x)), x) versus add(c3(x), c3(x))
    assert snap_id("dup c3 c3 add") != snap_id("dup c3 swap c3 add")


def test_shared_node_differs_from_twin_nodes():
    # one conv used twice versus two convs with separate weights
    shared, twins = Snap.parse("c3 dup add"), Snap.parse("dup c3 swap c3 add")
    assert shared.snap_id != twins.snap_id
    assert shared.canonical == "add(#1=c3(x),#1)"
    assert twins.canonical == "add(c3(x),c3(x))"


def test_cat_is_commutative_but_order_of_unary_ops_is_not():
    assert snap_id("dup c3 cat") == snap_id("dup c3 swap cat")
    assert snap_id("c3 mp") != snap_id("mp c3")


def test_ties_between_isomorphic_branches_are_resolved_canonically():
    """Two twin convs P, Q feed one add; only one of them is also used by a pool. Which
    twin that is must not matter, whatever order the add lists them in."""

    def block(pooled: int, add_inputs: tuple[int, int]) -> Dag:
        x, p, q = Node("x"), Node("c3", (0,)), Node("c3", (0,))
        return Dag((x, p, q, Node("add", add_inputs), Node("mp", (pooled,)), Node("cat", (3, 4))))

    variants = {
        canonicalise(block(pooled, ins))[0] for pooled in (1, 2) for ins in ((1, 2), (2, 1))
    }
    assert len(variants) == 1
    unshared = Dag(
        (
            Node("x"),
            Node("c3", (0,)),
            Node("c3", (0,)),
            Node("c3", (0,)),
            Node("add", (1, 2)),
            Node("mp", (3,)),
            Node("cat", (4, 5)),
        )
    )
    assert canonicalise(unshared)[0] not in variants


@given(snaps())
@settings(max_examples=300, deadline=None)
def test_swapping_merge_inputs_keeps_the_id(symbols):
    """Insert `swap` before every merge (flipping its inputs): same architecture."""
    flipped: list[str] = []
    for s in symbols:
        if s in MERGE_OPS:
            flipped.append("swap")
        flipped.append(s)
    assert snap_id(symbols, max_len=64) == snap_id(flipped, max_len=64)


@given(snaps())
@settings(max_examples=300, deadline=None)
def test_canonical_string_describes_the_whole_graph(symbols):
    """Parsing the canonical string back gives a graph with the same canonical string
    and the same operations (nothing lost: sharing, twins, every node)."""
    snap = Snap.parse(symbols)
    rebuilt = parse_canonical(snap.canonical)
    assert canonicalise(rebuilt)[0] == snap.canonical
    ops = sorted(n.op for n in compile_dag(snap.symbols).nodes)
    assert sorted(n.op for n in rebuilt.nodes) == ops
    assert sorted(n.op for n in snap.dag.nodes) == ops


@given(snaps())
@settings(max_examples=200, deadline=None)
def test_canonical_dag_is_topological(symbols):
    dag = Snap.parse(symbols).dag
    assert dag.nodes[0].op == "x"
    for i, n in enumerate(dag.nodes[1:], start=1):
        assert all(j < i for j in n.inputs)
    used = {j for n in dag.nodes for j in n.inputs} | {dag.output}
    assert used == set(range(len(dag.nodes)))


def test_snap_id_is_stable_across_releases():
    # A changed id would silently retrain every cached child: changing it is a decision.
    assert snap_id("dup c3 c3 add") == "4fed360ea456"
    assert snap_id("dup c3 add") == "d33019f3e7af"


# --- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "symbol", "reason"),
    [
        ("add", 1, "add", "stack underflow"),
        ("c3 swap", 2, "swap", "stack underflow"),
        ("c3 foo", 2, "foo", "unknown symbol"),
        ("dup c3", 2, "c3", "2 tensors left"),
        ("c3 " * 17, 17, "c3", "too long"),
        ("mp ap", None, None, "no symbol with weights"),
        ("", None, None, "empty"),
    ],
)
def test_invalid_snaps_name_position_symbol_and_reason(text, position, symbol, reason):
    with pytest.raises(SnapError) as err:
        Snap.parse(text)
    assert err.value.position == position
    assert err.value.symbol == symbol
    assert reason in str(err.value)
    if position is not None:
        assert f"position {position} '{symbol}'" in str(err.value)


def test_upper_case_symbols_are_accepted():
    assert Snap.parse("DUP C3 ADD").text == "dup c3 add"


# --- mask and sampling ----------------------------------------------------------------


def test_mask_matches_brute_force_completability():
    """For every prefix up to length 5, the mask allows exactly the symbols after which
    some valid SNAP of at most 5 symbols exists."""
    max_len = 5
    g = SnapGrammar(max_len=max_len)
    valid_prefixes: set[tuple[str, ...]] = set()
    for n in range(1, max_len + 1):
        for seq in itertools.product(SYMBOLS, repeat=n):
            try:
                validate(seq, max_len)
            except SnapError:
                continue
            valid_prefixes.update(seq[:k] for k in range(n + 1))
    for prefix in valid_prefixes:
        state = g.initial_state()
        for s in prefix:
            state = g.advance(state, s)
        remaining = max_len - len(prefix)
        mask = grammar.token_mask(g, state, remaining)
        expected = [prefix + (s,) in valid_prefixes for s in g.symbols]
        assert mask[grammar.N_SPECIAL :] == expected, prefix
        ended_valid = len(prefix) > 0 and g.can_end(state)
        assert mask[grammar.END] == ended_valid, prefix
        assert not mask[grammar.PAD]


def test_ten_thousand_samples_are_valid_unique_and_reproducible():
    first = sample_snaps(10_000, seed=7, max_len=16)
    ids = [s.snap_id for s in first]
    assert len(set(ids)) == 10_000
    for s in first:
        validate(s.symbols, 16)
    again = sample_snaps(10_000, seed=7, max_len=16)
    assert [s.text for s in again] == [s.text for s in first]
    assert [s.text for s in sample_snaps(100, seed=8)] != [s.text for s in first[:100]]


def test_sampling_respects_length_bounds_and_exclusions():
    snaps_ = sample_snaps(200, seed=1, max_len=6, min_len=3)
    assert all(3 <= len(s.symbols) <= 6 for s in snaps_)
    excluded = {s.snap_id for s in snaps_[:50]}
    more = sample_snaps(100, seed=1, max_len=6, min_len=3, exclude=excluded)
    assert not excluded & {s.snap_id for s in more}


def test_sampling_more_than_the_space_holds_is_a_clear_error():
    # Length 1 admits only the five weighted unary symbols.
    assert len(sample_snaps(5, seed=0, max_len=1)) == 5
    with pytest.raises(ValueError, match="found only 5 of 6"):
        sample_snaps(6, seed=0, max_len=1)


@given(snaps(max_len=16))
def test_token_encoding_round_trip(symbols):
    g = SnapGrammar(max_len=16)
    ids = grammar.encode(g, symbols)
    assert len(ids) == 17
    assert ids[len(symbols)] == grammar.END
    assert all(t == grammar.PAD for t in ids[len(symbols) + 1 :])
    assert grammar.decode(g, ids) == symbols
