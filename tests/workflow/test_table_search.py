"""One search loop: a search over a table (`evaluate: {table: PATH}`) through the real
Snakemake DAG finds, round by round, the same proposals, histories and value models as
the same config run in process by autosnap.search.loop.search."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from helpers import planned, snakemake, workdir

from autosnap.search.config import search_config, value_model_config
from autosnap.search.loop import NOT_IN_TABLE, look_up, read_lookup, search
from autosnap.search.predictors.value_model import load_model
from autosnap.space.snap import SYMBOLS, enumerate_snaps
from autosnap.training.config import train_config

pytestmark = pytest.mark.slow

#: Laid over the demo config as the workflow lays it: a 3-round search of the space of
#: SNAPs up to 3 symbols, with the demo's own search settings otherwise.
OVERLAY = {
    "search": {"rounds": 3, "children": 4, "max_len": 3, "autosnap": {"top": 4, "candidates": 30}},
    "value_model": {"steps": 40, "random_pool": 20, "hidden": 16},
    "evaluate": {"table": "table.parquet"},
}


def toy_table(drop: int = 0) -> pd.DataFrame:
    """Every SNAP of at most 3 symbols with a value that a symbol count explains in part;
    the `drop` first members left out (so a search can propose a SNAP not in it)."""
    snaps = enumerate_snaps(3, tuple(SYMBOLS))
    rng = np.random.default_rng(0)
    weight = {s: rng.normal() for s in SYMBOLS}
    values = [sum(weight[t] for t in s.text.split()) / 3 + 0.1 * rng.normal() for s in snaps]
    table = pd.DataFrame({"snap": [s.text for s in snaps], "snap_id": [s.snap_id for s in snaps],
                          "value": values, "params": 1000.0})  # fmt: skip
    return table.iloc[drop:].reset_index(drop=True)


def deep(base: dict, over: dict) -> dict:
    """`over` laid over `base` key by key, into nested sections, as Snakemake lays a
    --configfile over the config."""
    out = dict(base)
    for k, v in over.items():
        out[k] = deep(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def merged(cwd, overlay: dict) -> dict:
    """The config the workflow runs with: config.yaml, then the overlay."""
    return deep(yaml.safe_load((cwd / "config/config.yaml").read_text()), overlay)


def roundtrip(df: pd.DataFrame, path) -> pd.DataFrame:
    df.to_parquet(path, index=False)
    return pd.read_parquet(path)


#: Each strategy, and the bag-of-symbols control (autosnap with a linear model of the
#: symbol counts in place of the auto-encoder, so a pool without ascent decodes).
SEARCHES = {
    "autosnap": {},
    "evolution": {"search": {"strategy": "evolution"}},
    "local": {"search": {"strategy": "local"}},
    "bananas": {"search": {"strategy": "bananas"}},
    "bag": {"search": {"autosnap": {"sources": ["mutation", "evolution", "random"]}},
            "value_model": {"kind": "bag"}},
}  # fmt: skip


@pytest.mark.parametrize("name", list(SEARCHES))
def test_a_table_search_is_the_same_through_snakemake_and_in_process(tmp_path, name):
    cwd = workdir(tmp_path / "run")
    table = toy_table()
    table.to_parquet(cwd / "table.parquet", index=False)
    same_through_snakemake(tmp_path, cwd, table, deep(OVERLAY, SEARCHES[name]))


def same_through_snakemake(tmp_path, cwd, table: pd.DataFrame, overlay: dict) -> list:
    """Run the overlay's table search through Snakemake and in process; assert every
    round's proposals, history and value model agree; return the rounds."""
    (cwd / "table.yaml").write_text(yaml.safe_dump(overlay))
    jobs = planned(cwd, "--configfile", "table.yaml")
    assert not any(rule.startswith(("train_", "final", "prepare_data")) for rule in jobs), jobs
    assert jobs["look_up"] == 3
    r = snakemake(cwd, "--configfile", "table.yaml", "--cores", "2")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]

    cfg = merged(cwd, overlay)
    search_cfg, vm = search_config(cfg["search"]), value_model_config(cfg["value_model"])
    lookup, seed = read_lookup(table), train_config(cfg["train"]).seed
    torch.set_num_threads(1)  # as the fit job: the same sums in the same order
    rounds = list(search(search_cfg, vm, lambda p: look_up(p, lookup, seed)))
    assert len(rounds) == 3
    snaps = [s.split() for s in table["snap"]]
    for rnd in rounds:
        folder = cwd / f"results/round_{rnd.round}"
        pd.testing.assert_frame_equal(pd.read_parquet(folder / "proposals.parquet"),
                                      roundtrip(rnd.proposals, tmp_path / "p.parquet"))  # fmt: skip
        pd.testing.assert_frame_equal(pd.read_parquet(folder / "history.parquet"),
                                      roundtrip(rnd.history, tmp_path / "h.parquet"))  # fmt: skip
        if rnd.model is None:
            assert not (folder / "value_model.pt").exists() or rnd.round == 2
            continue
        stored = load_model(folder / "value_model.pt", search_cfg.grammar)
        assert np.array_equal(stored.predict(snaps), rnd.model.predict(snaps))
        metrics = pd.read_parquet(folder / "value_model.parquet").iloc[0]
        assert metrics["seed"] == rnd.metrics["seed"]
        assert metrics["train_kendall_tau"] == pytest.approx(rnd.metrics["train_kendall_tau"])
    assert search_cfg.needs_model == (cwd / "results/round_1/value_model.pt").exists()
    return rounds


#: A strategy a user writes in a file of their own: mutations of the best `parents`.
TOY = """
from dataclasses import dataclass

from autosnap.search.history import ranked
from autosnap.search.strategies import Strategy, register


@dataclass(frozen=True)
class ToySettings:
    parents: int = 1


@register
class Toy(Strategy):
    name = "toy"
    Config = ToySettings

    def propose(self, history, k, rng):
        props = self.proposals(history, k)
        best = ranked(history)["snap"].head(self.settings.parents).tolist()
        props.add_mutations(best, k, rng, origin="toy")
        return props
"""


def test_a_strategy_in_a_module_of_its_own_runs_in_process_and_through_snakemake(
    tmp_path, monkeypatch
):
    """A plug-in: one module outside the package, named in search.plugins, with no
    other file changed, runs through the one loop in process and as the workflow's jobs."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "toy_strategy.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(plugins))  # this process
    monkeypatch.setenv("PYTHONPATH", str(plugins))  # Snakemake's jobs
    cwd = workdir(tmp_path / "run")
    table = toy_table()
    table.to_parquet(cwd / "table.parquet", index=False)
    toy = {"search": {"strategy": "toy", "plugins": ["toy_strategy"], "toy": {"parents": 2}}}
    rounds = same_through_snakemake(tmp_path, cwd, table, deep(OVERLAY, toy))
    for before, rnd in zip(rounds, rounds[1:], strict=False):
        props = rnd.proposals
        assert (props["origin"] == "toy").sum() >= 3, props
        best = set(before.history.sort_values("value", ascending=False)["snap"].head(2))
        assert set(props.loc[props["origin"] == "toy", "parent"]) <= best


def test_a_snap_missing_from_the_table_is_a_failed_child():
    table = read_lookup(toy_table(drop=5))
    missing = toy_table().iloc[:2]
    props = pd.DataFrame({"round": 1, "slot": [0, 1, 2], "origin": "random",
                          "snap": [*missing["snap"], table["snap"].iloc[0]],
                          "snap_id": [*missing["snap_id"], table.index[0]]})  # fmt: skip
    children = look_up(props, table, seed=3)
    assert list(children["status"]) == [NOT_IN_TABLE, NOT_IN_TABLE, "ok"]
    assert children["value"].iloc[:2].isna().all()
    assert children["value"].iloc[2] == table["value"].iloc[0]
    assert children["params"].iloc[2] == 1000.0 and (children["seed"] == 3).all()
