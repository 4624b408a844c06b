"""Shared test helpers."""

from __future__ import annotations

from hypothesis import strategies as st

from autosnap.space.grammar import build_sequence
from autosnap.space.snap import SnapGrammar


@st.composite
def snaps(draw: st.DrawFn, max_len: int = 12) -> list[str]:
    """Valid SNAPs drawn symbol by symbol through the completability mask."""
    length = draw(st.integers(1, max_len))
    return build_sequence(SnapGrammar(max_len=max_len), length, lambda c: draw(st.sampled_from(c)))
