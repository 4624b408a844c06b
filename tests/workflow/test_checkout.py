"""The suite leaves a user's checkout alone: `make run`, then `make test`, works
(conftest.checkout_untouched fails the session otherwise; here, that its check sees a
change at all)."""

from __future__ import annotations

from helpers import user_state


def test_the_checkout_guard_sees_results_and_snakemake_state_change(tmp_path):
    assert user_state(tmp_path) == {}
    (tmp_path / "results/data").mkdir(parents=True)
    (tmp_path / "results/data/train.parquet").write_bytes(b"x")
    (tmp_path / "elsewhere").mkdir()  # not a user's run state
    first = user_state(tmp_path)
    assert set(first) == {"results", "results/data", "results/data/train.parquet"}
    (tmp_path / ".snakemake/locks").mkdir(parents=True)
    assert set(user_state(tmp_path)) - set(first) == {".snakemake", ".snakemake/locks"}
    (tmp_path / ".snakemake/locks").rmdir()
    (tmp_path / ".snakemake").rmdir()
    (tmp_path / "results/data/train.parquet").unlink()
    assert "results/data/train.parquet" not in user_state(tmp_path)
