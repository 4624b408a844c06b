"""Shared test helpers, and how pytest-xdist shares the suite between workers."""

from __future__ import annotations

import os

import pytest
from helpers import USER_STATE, user_state
from hypothesis import strategies as st

from autosnap.space.grammar import build_sequence
from autosnap.space.snap import SnapGrammar

# pytest-xdist workers share the cores: OpenMP threads that wait must sleep, not spin,
# or every in-process fit and every Snakemake job beside them ran 3-5x slower (read by
# torch's OpenMP when torch is imported, so set before any test imports it). Each
# worker trains with its share of the cores (helpers.THREADS).
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@st.composite
def snaps(draw: st.DrawFn, max_len: int = 12) -> list[str]:
    """Valid SNAPs drawn symbol by symbol through the completability mask."""
    length = draw(st.integers(1, max_len))
    return build_sequence(SnapGrammar(max_len=max_len), length, lambda c: draw(st.sampled_from(c)))


#: Modules that run whole workflows, started first: pytest-xdist (`--dist loadscope` in
#: pyproject.toml) hands out whole modules, so a module fixture is built once, and a
#: long module handed out last would run alone at the end.
LONGEST_FIRST = ("tests/workflow/test_workflow.py", "tests/cluster/test_slurm.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in LONGEST_FIRST)


@pytest.fixture(autouse=True, scope="session")
def checkout_untouched():
    """Fail the session when a test created, changed or removed anything under the
    checkout's results/ or .snakemake/."""
    before = user_state()
    yield
    after = user_state()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        pytest.fail(f"the tests changed the checkout's {' or '.join(USER_STATE)}: {changed[:10]}")
