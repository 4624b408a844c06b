"""The benchmark suite: one protocol, pinned experiment files, and a harness that runs
every search through autosnap's round loop, resumes, and records its provenance."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import ROOT

from autosnap.space import grammar as gr
from autosnap.space.snap import enumerate_snaps
from benchmarks import experiment, harness, protocol, provenance, results_page, tables
from benchmarks.provenance import Run

EXPERIMENTS = ROOT / "benchmarks/experiments"


def test_paired_counts_wins_ties_losses_and_tests_them():
    seeds = list(range(20))
    a = [0.01 * (s % 3) for s in seeds]  # a is better on most seeds
    b = [x + (0.05 if s % 5 else 0.0) for s, x in zip(seeds, a, strict=True)]
    ends = pd.DataFrame({"strategy": ["a"] * 20 + ["b"] * 20, "seed": seeds * 2,
                         "valid_regret": a + b})  # fmt: skip
    out = protocol.paired(ends, "a", "b", "valid_regret")
    assert (out["wins"], out["ties"], out["losses"]) == (16, 4, 0) and out["p"] < 0.001
    assert out["mean_diff"] == pytest.approx(-0.04)
    assert out["ci_low"] < -0.04 < out["ci_high"] < 0
    assert protocol.paired(ends, "b", "a", "valid_regret")["losses"] == 16
    same = protocol.paired(ends.assign(valid_regret=0.0), "a", "b", "valid_regret")
    assert same["ties"] == 20 and same["p"] == 1.0


def test_endpoints_are_both_regrets_at_the_budgets():
    curves = pd.DataFrame({"table": "t", "strategy": "s", "seed": [0, 0, 1, 1],
                           "queries": [50, 100, 50, 100], "best_valid": [0.5, 0.8, 0.7, 0.9],
                           "test_of_best_valid": [0.4, 0.6, 0.6, 0.5]})  # fmt: skip
    best = pd.DataFrame({"best_valid": [0.9], "best_test": [0.7]}, index=["t"])
    ends = protocol.endpoints(curves, best, [50, 100])
    assert np.allclose(ends["valid_regret"], [0.4, 0.1, 0.2, 0.0])
    assert np.allclose(ends["test_regret"], [0.3, 0.1, 0.1, 0.2])
    summ = protocol.summary(ends)
    assert list(summ["valid_regret_mean"].round(6)) == [0.3, 0.05]
    assert protocol.query_counts(100) == [50, 100] and protocol.query_counts(70) == [50]
    assert protocol.query_counts(30) == [30]  # a short check run: its last count
    assert protocol.query_counts(32, (16, 32)) == [16, 32]


def test_a_registered_verdict_needs_holms_p_below_alpha():
    pairs = pd.DataFrame({"table": ["x", "y", "z", "x"], "a": "s", "b": ["t", "t", "t", "u"],
                          "endpoint": "test_regret", "queries": 100,
                          "p_holm": [0.01, 0.2, 0.04, 0.049],
                          "mean_diff": [-0.1, -0.3, 0.02, 0.0001]})  # fmt: skip
    rows = protocol.verdicts(pairs, "test_regret", 100, 0.05)
    assert list(rows["result"]) == ["better", "no difference", "worse", "worse"]
    assert protocol.verdicts(pairs, "valid_regret", 100, 0.05).empty
    counts = protocol.tally(rows).set_index("b")
    assert counts.loc["t", ["better", "worse", "no difference"]].tolist() == [1, 1, 1]
    assert counts.loc["u", ["better", "worse", "no difference"]].tolist() == [0, 1, 0]


def test_holm_adjusts_across_the_tables_of_one_comparison():
    pairs = pd.DataFrame({"table": ["x", "y", "z", "x"], "a": "s", "b": ["t", "t", "t", "u"],
                          "endpoint": "valid_regret", "queries": 100,
                          "p": [0.01, 0.04, 0.03, 0.04]})  # fmt: skip
    out = protocol.holm(pairs)
    # s vs t over three tables: 0.01 * 3, then max(0.03, 0.03 * 2), then max(0.06, 0.04)
    assert list(out["p_holm"].round(6)) == [0.03, 0.06, 0.06, 0.04]


@pytest.fixture(scope="module")
def toy_table(tmp_path_factory):
    """A SNAP-Bench-like table of every SNAP up to 3 symbols with a smooth value."""
    snaps = enumerate_snaps(3)
    rng = np.random.default_rng(0)
    value = [sum(t in ("c3", "s5") for t in s.symbols) / 3 + 0.05 * rng.random() for s in snaps]
    table = pd.DataFrame({"snap": [s.text for s in snaps], "snap_id": [s.snap_id for s in snaps],
                          "status": "ok", "value": value})  # fmt: skip
    table["test_value"] = table["value"] + 0.01
    table.attrs["bench"] = {"max_len": 3}
    path = tmp_path_factory.mktemp("table") / "toy.parquet"
    table.to_parquet(path)
    return path


def toy_experiment(folder, table, **changes) -> experiment.Experiment:
    """strategies.yaml on the toy table, small: 2 seeds, 3 rounds of 4, a short fit."""
    data = yaml.safe_load((EXPERIMENTS / "strategies.yaml").read_text())
    vm = {**data["settings"]["value_model"], "steps": 30, "hidden": 16, "random_pool": 20}
    data.update(tables=[str(table)], seeds=[0, 1], rounds=3, children=4, budgets=[8, 12])
    data["strategies"] = {"autosnap": {**data["strategies"]["autosnap"], "value_model": vm},
                          "evolution": data["strategies"]["evolution"]}  # fmt: skip
    data.update(changes)
    path = folder / "toy.yaml"
    path.write_text(yaml.safe_dump(data))
    return experiment.load(path)


def test_an_experiment_runs_every_search_and_resumes_where_it_stopped(toy_table, tmp_path):
    exp = toy_experiment(tmp_path, toy_table)
    work, out = tmp_path / "work", tmp_path / "out"
    first = harness.run(exp, out, 1, work)
    assert (first["searches"], first["resumed"]) == (4, 0) and first["search_seconds"] >= 0
    curves = pd.read_csv(out / "curves.csv.gz")
    assert len(curves) == 4 * 12 and set(curves["strategy"]) == {"autosnap", "evolution"}
    by = curves.set_index(["strategy", "seed", "queries"])["best_valid"]
    # round 0 is the seed's, whatever the strategy: the pairs start equal
    assert by["autosnap", 1].head(4).equals(by["evolution", 1].head(4))
    pairs = pd.read_csv(out / "pairs.csv")
    assert set(pairs["endpoint"]) == set(protocol.ENDPOINTS) and set(pairs["queries"]) == {8, 12}
    assert {"p_holm", "ci_low", "ci_high"} <= set(pairs.columns)
    assert set(pd.read_csv(out / "predictor.csv")["round"]) == {0, 1}
    assert (out / "regret.png").stat().st_size > 0
    files = sorted(work.glob("*.json"))
    assert len(files) == 4
    files[0].unlink()  # the one search a stop lost
    kept = {f: f.stat().st_mtime_ns for f in files[1:]}
    again = harness.run(exp, out, 1, work)
    assert (again["searches"], again["resumed"]) == (4, 3)
    # the compute is every search's own time, the resumed ones' included
    times = [json.loads(f.read_text())["seconds"] for f in sorted(work.glob("*.json"))]
    assert again["search_seconds"] == round(sum(times)) and all(t > 0 for t in times)
    assert all(f.stat().st_mtime_ns == t for f, t in kept.items()) and files[0].exists()
    pd.testing.assert_frame_equal(pd.read_csv(out / "curves.csv.gz"), curves)
    written = (out / "curves.csv.gz").read_bytes()
    harness.run(exp, out, 1, work)
    assert (out / "curves.csv.gz").read_bytes() == written  # no time stamp: same bytes
    # another setting is another search: nothing of the first is reused
    harness.run(toy_experiment(tmp_path, toy_table, children=3, budgets=[6, 9]), out, 1, work)
    assert len(list(work.glob("*.json"))) == 8


@pytest.mark.parametrize(
    "change, message",
    [
        ({"strategies": {"x": {"search": {"strategy": "evolution", "evolution": {}}}}},
         "strategies.x.search.evolution: names no ['population', 'tournament']"),
        ({"strategies": {"x": {"search": {"strategy": "random", "evolution": {}}}}},
         "strategies.x.search.evolution: not pinned here"),
        ({"strategies": {"x": {"search": {"strategy": "evolution", "evolution":
                                          {"population": 4, "tournament": 2, "top": 3}}}}},
         "strategies.x.search.evolution.top: unknown key"),
        ({"strategies": {"x": {"search": {"strategy": "bananas", "bananas":
                                          {"top": 4, "candidates": 2, "ensemble": 5}}}}},
         "strategies.x.search.bananas.candidates: the pool of mutations needs at least"),
        ({"strategies": {"x": {"search": {"strategy": "tpe"}}}},
         "strategies.x.search.strategy: no strategy 'tpe'"),
        ({"seeds": None, "tables": ["snapbench"]}, "seeds: missing"),
        ({"rounds": "ten"}, "rounds: expected integer, got 'ten'"),
        ({"kind": "measures"}, "kind: expected 'search' or 'measure'"),
        ({"tables": ["demo"]}, "training: the demo table needs data, train and max_len"),
        ({"status": "registered"}, "endpoints: a registered study names its endpoints"),
        ({"endpoints": {"primary": ["test_regret", 70]}},
         "endpoints.primary: expected [endpoint, queries]"),
        ({"endpoints": {"primary": ["test_regret", 100], "alpha": 2.0}},
         "endpoints.alpha: expected a number between 0 and 1"),
    ],
)  # fmt: skip
def test_an_experiment_file_pins_every_setting(tmp_path, change, message):
    data = yaml.safe_load((EXPERIMENTS / "strategies.yaml").read_text())
    data.update(change)
    data = {k: v for k, v in data.items() if v is not None}
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(experiment.ExperimentError, match="e.yaml: " + message.replace("[", r"\[")):
        experiment.load(tmp_path / "e.yaml")


def test_every_committed_experiment_loads_and_keeps_the_held_back_tables_out():
    kinds, frozen = set(), []
    for path in sorted(EXPERIMENTS.glob("*.yaml")):
        exp = experiment.load(path)
        kinds.add(type(exp))
        assert not any(t.endswith(tables.HELD_BACK) for t in getattr(exp, "tables", ())), path
        if getattr(exp, "code_commit", None):  # read by older code: the harness refuses it
            frozen.append(path.name)
            with pytest.raises(experiment.ExperimentError, match="git worktree add"):
                harness.run(exp, Path("/nonexistent"), 1)
    assert kinds == {experiment.Experiment, experiment.Measurement}
    assert frozen == ["confirmatory.yaml"]
    for name in tables.HELD_BACK:
        with pytest.raises(tables.TableError, match="held back for an independent check"):
            tables.load(f"nasbench_graph/{name}")


def test_a_search_is_keyed_by_its_code_not_its_comments(tmp_path):
    src = tmp_path / "ascent.py"
    versions = {
        "code": 'def step(x):\n    """Move."""\n    return x + 1  # one unit\n',
        "reworded": '"""Ascent."""\n\n\ndef step(x):\n    """Move up."""\n    return (x + 1)\n',
        "changed": 'def step(x):\n    """Move."""\n    return x + 2  # one unit\n',
    }
    keys = {}
    for name, text in versions.items():
        src.write_text(text)
        keys[name] = harness.source_digest([src], tmp_path)
    assert keys["code"] == keys["reworded"] != keys["changed"]
    assert len(harness.code_digest()) == 10  # the package's search code parses


def test_a_dirty_tree_is_refused_unless_only_results_changed(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    results = tmp_path / "benchmarks/results/x"
    results.mkdir(parents=True)
    (results / "regret.png").write_text("old")
    (tmp_path / "code.py").write_text("a = 1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    (results / "regret.png").write_text("new")  # a rerun rewrites its own results
    assert provenance.commit(False, root=tmp_path)["dirty"] is False
    (tmp_path / "code.py").write_text("a = 2\n")
    with pytest.raises(provenance.DirtyTreeError, match="code.py"):
        provenance.commit(False, root=tmp_path)
    assert provenance.commit(True, root=tmp_path)["dirty"] is True


def test_a_measurement_names_the_commit_of_the_run_it_reads(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    assert provenance.source_run(run)["commit"] is None  # not a checkout: said so
    git = ["git", "-C", str(run)]
    (run / "config.yaml").write_text("a: 1\n")
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
                   check=True)  # fmt: skip
    (run / "run.log").write_text("a log the run wrote\n")  # untracked: still clean
    head = provenance.git("rev-parse", "HEAD", root=run)
    assert provenance.source_run(run) == {"path": str(run), "commit": head, "dirty": False}
    (run / "config.yaml").write_text("a: 2\n")
    assert provenance.source_run(run)["dirty"] is True


def test_run_json_records_commit_settings_machine_and_command(tmp_path):
    run = Run("abc", allow_dirty=True)
    record = json.loads(run.write(tmp_path, searches=3).read_text())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()  # fmt: skip
    assert record["commit"] == head and record["experiment_sha256"] == "abc"
    assert record["machine"]["cores"] >= 1 and "torch" in record["versions"]
    assert record["wall_seconds"] >= 0 and record["searches"] == 3 and record["command"]


def test_the_command_line_runs_an_experiment(toy_table, tmp_path):
    random = yaml.safe_load((EXPERIMENTS / "strategies.yaml").read_text())["strategies"]["random"]
    exp = toy_experiment(tmp_path, toy_table, seeds=[0, 0], compare={"first": "random"},
                         strategies={"random": random})  # fmt: skip
    r = subprocess.run([sys.executable, "-m", "benchmarks", "run", str(exp.path), "--cores", "1",
                        "--allow-dirty", "--out", str(tmp_path / "out"), "--work",
                        str(tmp_path / "work")], cwd=ROOT,
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    record = json.loads((tmp_path / "out/run.json").read_text())
    assert record["command"].startswith("python -m benchmarks run ") and record["searches"] == 1
    assert record["search_seconds"] >= 0
    # the results page is generated from the folder: its section names the commit
    page = results_page.write(tmp_path / "results.md", tmp_path)
    text = page.read_text()
    assert "## out (exploration)" in text and f"commit `{record['commit'][:10]}`" in text
    assert "Sections: [out](#out-exploration)." in text  # GitHub's anchor of the heading
    assert "toy.parquet |" in text and "valid regret" in text
    # run again: the search comes from the work folder, and the page says so
    assert subprocess.run(r.args, cwd=ROOT, capture_output=True).returncode == 0
    text = results_page.write(tmp_path / "results.md", tmp_path).read_text()
    assert "(1 of 1 searches resumed from an earlier run)" in text


def test_a_registered_study_leads_its_section_with_its_endpoints(toy_table, tmp_path):
    ends = {"primary": ["test_regret", 12], "secondary": [["valid_regret", 8]], "alpha": 0.05}
    exp = toy_experiment(tmp_path, toy_table, status="registered", endpoints=ends)
    assert exp.endpoints == experiment.Endpoints(("test_regret", 12), (("valid_regret", 8),), 0.05)
    out = tmp_path / "results" / "study"
    done = harness.run(exp, out, 1, tmp_path / "work")
    Run(exp.digest, allow_dirty=True).write(out, experiment=str(exp.path), **done)
    text = results_page.write(tmp_path / "results.md", tmp_path / "results").read_text()
    assert "## study (registered)" in text
    primary = text.index("**Primary endpoint: test regret at 12 queries**")
    assert primary < text.index("**valid regret** (mean")  # before the full tables
    assert "**Tables per verdict, valid regret at 8 queries** (secondary)" in text
    row = next(line for line in text.splitlines() if "toy.parquet | autosnap | evolution" in line)
    assert row.count("±") == 2 and row.rstrip(" |").endswith(("better", "worse", "difference"))


def test_a_measurement_runs_with_its_pinned_arguments(tmp_path):
    """kind: measure: a module of benchmarks/measure/ with the file's arguments, written
    into the results folder with its run.json."""
    (tmp_path / "scale.yaml").write_text(
        "description: tiny\nkind: measure\nmeasure: dag_scale\nargs: [--sizes, 1x4, --chunks, 2]\n"
    )
    r = subprocess.run([sys.executable, "-m", "benchmarks", "run", str(tmp_path / "scale.yaml"),
                        "--allow-dirty", "--out", str(tmp_path / "out")], cwd=ROOT,
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    table = pd.read_csv(tmp_path / "out/dag_scale.csv")
    assert set(table["children"]) == {4} and json.loads((tmp_path / "out/run.json").read_text())
    (tmp_path / "bad.yaml").write_text("description: x\nkind: measure\nmeasure: nothing\n")
    with pytest.raises(experiment.ExperimentError, match="no benchmarks/measure/nothing.py"):
        experiment.load(tmp_path / "bad.yaml")


def test_an_incomplete_table_is_searched_inside_its_members():
    full, sparse = tables.load("nasbench_graph/cora"), tables.load("nasbench_graph/proteins")
    assert isinstance(full.grammar, tables.NasBenchGraphGrammar)  # complete: as it was
    assert len(sparse.lookup) < len(full.lookup)
    drawn = gr.sample_unique(sparse.grammar, 300, seed=0, min_len=5)
    assert {sparse.grammar.key(s) for s in drawn} <= set(sparse.lookup.index)
    member = drawn[0]
    for seq in [*gr.neighbours(sparse.grammar, member), gr.mutate(sparse.grammar, member,
                                                                  random.Random(0))]:  # fmt: skip
        assert sparse.grammar.key(seq) in sparse.lookup.index
    outside = next(" ".join(s) for s in gr.sample_unique(full.grammar, 500, seed=1, min_len=5)
                   if full.grammar.key(s) not in sparse.lookup.index)  # fmt: skip
    assert not gr.is_valid(sparse.grammar, outside.split())


def test_the_regret_figure_draws_a_grid_of_more_strategies_than_colours(tmp_path):
    names = [f"s{i}" for i in range(15)]  # baselines.yaml compares 15
    curves = pd.DataFrame([{"table": "t", "strategy": s, "seed": seed, "queries": q,
                            "best_valid": 0.5 + 0.01 * q}
                           for s in names for seed in (0, 1) for q in (1, 2)])  # fmt: skip
    harness.plot_regret(curves, pd.DataFrame({"best_valid": [0.6]}, index=["t"]),
                        tmp_path / "r.png")  # fmt: skip
    assert (tmp_path / "r.png").stat().st_size > 0


def test_a_bad_experiment_is_one_line_and_exit_2(tmp_path, capsys):
    """The harness's input errors are the project's: one line on stderr, exit 2, no
    traceback (they were SystemExit subclasses)."""
    from benchmarks.__main__ import main

    assert main(["run", str(tmp_path / "nothing.yaml")]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"error: {tmp_path / 'nothing.yaml'}: no such experiment file (see "
        "benchmarks/experiments/)\n"
    )
    (tmp_path / "held.yaml").write_text(
        "description: x\nkind: search\ntables: [nasbench_graph/pubmed]\nseeds: [0, 1]\n"
        "rounds: 1\nchildren: 2\nbudgets: [2]\nstrategies: {r: {search: {strategy: random}}}\n"
    )
    assert main(["run", str(tmp_path / "held.yaml"), "--allow-dirty", "--out",
                 str(tmp_path / "out"), "--work", str(tmp_path / "work")]) == 2  # fmt: skip
    assert "held back for an independent check" in capsys.readouterr().err
