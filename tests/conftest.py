"""Shared test helpers, and how pytest-xdist shares the suite between workers."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from autosnap.space.grammar import build_sequence
from autosnap.space.snap import SnapGrammar


@st.composite
def snaps(draw: st.DrawFn, max_len: int = 12) -> list[str]:
    """Valid SNAPs drawn symbol by symbol through the completability mask."""
    length = draw(st.integers(1, max_len))
    return build_sequence(SnapGrammar(max_len=max_len), length, lambda c: draw(st.sampled_from(c)))


#: Module fixtures that run a whole workflow: every test using one goes to the same
#: pytest-xdist worker (`--dist loadgroup` in pyproject.toml), so each is built once.
COSTLY_FIXTURES = ("smoke_run", "slurm_run")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for name in COSTLY_FIXTURES:
            if name in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(name))
