"""The smoke search through the real `snakemake` command: every table, the report and
export, what reruns after an edit, and interruption at any point."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import AUTOSNAP, BIN, HANG_S, ROOT, SNAKEMAKE, planned, snakemake, workdir

from autosnap.space.snap import Snap
from autosnap.tables import CHILD_COLUMNS, PROPOSAL_COLUMNS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    cwd = workdir(tmp_path_factory.mktemp("smoke"))
    start = time.perf_counter()
    r = snakemake(cwd, "--configfile", "config/smoke.yaml", "--cores", "2")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (cwd / "snakemake.out").write_text(r.stdout)  # what the terminal showed on stdout
    return cwd, time.perf_counter() - start


def test_smoke_search_writes_every_table(smoke_run):
    cwd, _ = smoke_run
    cfg = yaml.safe_load((cwd / "config/smoke.yaml").read_text())
    rounds, k = cfg["search"]["rounds"], cfg["search"]["children"]
    seen: set[str] = set()
    for r in range(rounds):
        props = pd.read_parquet(cwd / f"results/round_{r}/proposals.parquet")
        assert list(props.columns[: len(PROPOSAL_COLUMNS)]) == PROPOSAL_COLUMNS
        assert len(props) == k and props["snap_id"].is_unique
        assert not seen & set(props["snap_id"]), f"round {r} repeats an earlier SNAP"
        seen |= set(props["snap_id"])
        for snap, sid in zip(props["snap"], props["snap_id"], strict=True):
            assert Snap.parse(snap, cfg["search"]["max_len"]).snap_id == sid
        history = pd.read_parquet(cwd / f"results/round_{r}/history.parquet")
        assert list(history.columns) == CHILD_COLUMNS and len(history) == k * (r + 1)
    assert (history["status"] == "ok").all()
    summary = pd.read_parquet(cwd / "results/final/summary.parquet").set_index("candidate")
    assert list(summary.index) == ["best1", "random", "i3posnet", "resnet"]
    best = history.sort_values("value", ascending=False).iloc[0]
    assert summary.at["best1", "snap"] == best["snap"]
    assert summary.at["resnet", "snap"] == "dup c3 c3 add"
    assert summary.at["i3posnet", "params"] > 10 * summary.at["resnet", "params"]
    assert (summary["seeds_ok"] == len(cfg["final"]["seeds"])).all()
    assert (summary["landmark_err_mm_std"] > 0).all()  # seeds differ: an honest spread
    # the random-search baseline: the search's budget, round 0 shared, its best retrained
    random = pd.read_parquet(cwd / "results/random/history.parquet")
    assert len(random) == rounds * k and random["snap_id"].is_unique
    round0 = pd.read_parquet(cwd / "results/round_0/history.parquet")
    assert list(random[random["round"] == 0]["snap_id"]) == list(round0["snap_id"])
    ok = random[random["status"] == "ok"]
    assert summary.at["random", "snap"] == ok.sort_values("value").iloc[-1]["snap"]
    # round 0 is the search's own children, and no child was trained twice (a final
    # candidate that is also another one, or the random search's best, waits for it)
    assert random.head(k).equals(round0)
    assert trainings(cwd).max() == 1


def test_report_has_a_table_behind_every_figure(smoke_run):
    cwd, _ = smoke_run
    report = cwd / "results/report"
    figures = sorted(p.stem for p in report.glob("*.png"))
    assert set(figures) >= {"progress", "strategies", "predictor", "latent", "blocks", "final",
                            "pareto", "examples"}  # fmt: skip
    index = (report / "index.html").read_text()
    for stem in figures:
        assert len(pd.read_csv(report / f"{stem}.csv")) > 0, stem
        assert f"src='{stem}.png'" in index, stem
    latent = pd.read_csv(report / "latent.csv")
    assert (latent["parent"].fillna("") != "").any()  # ascent paths are drawn
    predictor = pd.read_csv(report / "predictor.csv").set_index("round")
    assert -1 <= predictor.loc[0, "tau_next"] <= 1  # round 0's model on round 1's children
    assert pareto_has_front(pd.read_csv(report / "pareto.csv"))


class ReportPage(HTMLParser):
    """The section titles of index.html in order, and its tables as lists of rows."""

    def __init__(self, text: str):
        super().__init__()
        self.titles: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("h2", "td", "th"):
            self._in = tag
            if tag != "h2":
                self.tables[-1][-1].append("")
            else:
                self.titles.append("")

    def handle_endtag(self, tag):
        if tag in ("h2", "td", "th"):
            self._in = None

    def handle_data(self, data):
        if self._in == "h2":
            self.titles[-1] += data
        elif self._in in ("td", "th"):
            self.tables[-1][-1][-1] += data.strip()


def test_report_leads_with_the_answer_and_shows_no_empty_column(smoke_run):
    """The report's order: the final comparison, the search's progress, the predictor,
    the cost, the data; every section has a caption, and no table column is all NaN
    (the held-out metrics of a fit without a held-out share are left out)."""
    cwd, _ = smoke_run
    index = (cwd / "results/report/index.html").read_text()
    page = ReportPage(index)
    assert page.titles == [
        "Final comparison on the test split", "The blocks retrained", "Search progress",
        "Search against random search", "The value model per round", "The latent space",
        "Error against cost (Pareto front)", "The recommended model on test patches",
        "The data",
    ], page.titles  # fmt: skip
    assert index.count("class='caption'") == len(page.titles)
    for table in page.tables:
        header, *rows = table
        for j, name in enumerate(header):
            cells = {row[j] for row in rows}
            assert cells - {"NaN", "nan", ""}, f"column {name} is empty"
        for row in rows:  # no NaN cell, no raw array, counts as 278k
            assert not {"NaN", "nan"} & set(row) and not any(c.startswith("[") for c in row), row
    headline = page.tables[1]  # after the run's facts
    assert headline[0][:4] == ["candidate", "block", "validation error (mm)",
                               "landmark error (mm)"]  # fmt: skip
    assert any(row[1] == "i3PosNet-like" for row in headline[1:])
    assert all(re.fullmatch(r"\d+(k|\.\d\dM)?", row[headline[0].index("parameters")])
               for row in headline[1:]), headline  # fmt: skip
    summary = pd.read_parquet(cwd / "results/final/summary.parquet").set_index("candidate")
    best1 = summary.loc["best1"]
    assert f"{best1['landmark_err_mm_mean']:.3f} ± {best1['landmark_err_mm_std']:.3f}" in index
    # the answer first: the recommended model, why, the export; then the run's facts
    pick = summary.index[summary["recommended"]][0]
    top = index[: index.index("<h2>")]
    assert f"<b>Recommended: {pick}</b>" in top and "validation landmark error" in top
    assert "href='../export/MODEL_CARD.md'" in top
    facts = dict(page.tables[0])
    assert set(facts) == {"config", "data", "children", "time", "version"}, facts
    assert facts["config"] == "config/config.yaml + config/smoke.yaml", facts
    assert facts["data"] == "simulated: screw, drill"
    assert facts["children"].startswith("8 (8 trained successfully)")
    assert "negative tau after round 0" in index


def test_snakemake_report_has_every_figure_of_the_report_folder(smoke_run, tmp_path):
    """One report: `snakemake --report` holds every figure of results/report/ (and its
    table), besides the data examples."""
    cwd, _ = smoke_run
    out = tmp_path / "report.zip"  # a zip keeps the files as they are, easy to list
    r = snakemake(cwd, "--configfile", "config/smoke.yaml", "--report", str(out))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    import zipfile

    files = [Path(n).name for n in zipfile.ZipFile(out).namelist()]  # data/raw/<hash>/<name>
    figures = sorted(p.stem for p in (cwd / "results/report").glob("*.png"))
    assert len(figures) >= 8
    for stem in figures:
        assert f"{stem}.png" in files and f"{stem}.csv" in files, (stem, files)
    assert files.count("examples.png") == 2, files  # the data's and the predictions'


def test_i3posnet_benchmark_tables_a_finished_run(smoke_run, tmp_path):
    """The i3posnet measurement (benchmarks/experiments/i3posnet.yaml) reads a finished
    run: every candidate against the i3PosNet-style baseline, the per-seed rows, the
    figures, and the run's provenance."""
    cwd, _ = smoke_run
    cmd = [BIN / "python", "-m", "benchmarks", "run", "benchmarks/experiments/i3posnet.yaml",
           "--allow-dirty", "--out", tmp_path, "--", "--run", cwd]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    table = pd.read_csv(tmp_path / "i3posnet_final.csv").set_index("candidate")
    summary = pd.read_parquet(cwd / "results/final/summary.parquet").set_index("candidate")
    assert list(table.index) == list(summary.index)
    err = summary["landmark_err_mm_mean"]
    ratio = table["landmark_err_vs_i3posnet"]
    assert ratio["i3posnet"] == 1
    assert ratio["best1"] == pytest.approx(err["best1"] / err["i3posnet"])
    assert table.at["resnet", "params_vs_i3posnet"] < 0.1
    seeds = pd.read_csv(tmp_path / "i3posnet_seeds.csv")
    assert len(seeds) == summary["seeds"].sum() and (seeds["status"] == "ok").all()
    for name in ("examples", "anatomy", "predictions", "progress"):
        assert (tmp_path / f"i3posnet_{name}.png").stat().st_size > 0, name
    assert json.loads((tmp_path / "run.json").read_text())["measure"] == "i3posnet"


def pareto_has_front(table: pd.DataFrame) -> bool:
    return bool(table["pareto_params"].any() and table["pareto_latency_ms"].any())


def test_export_of_the_winner_matches_pytorch(smoke_run):
    cwd, _ = smoke_run
    out = cwd / "results/export"
    checks = pd.read_csv(out / "export_check.csv").set_index("format")
    assert set(checks.index) == {"torchscript", "onnx", "standalone module"}
    assert (checks["max_abs_diff"] <= 1e-4).all() and checks["inputs"].str.contains("test").all()
    card = (out / "MODEL_CARD.md").read_text()
    summary = pd.read_parquet(cwd / "results/final/summary.parquet").set_index("candidate")
    (pick,) = summary.index[summary["recommended"]]
    seed = summary.at[pick, "recommended_seed"]
    meta = json.loads((out / "model_card.json").read_text())
    assert meta["checkpoint"] == f"results/final/{pick}/seed_{seed}.pt"
    assert meta["instruments"] == ["drill", "screw"]
    assert meta["selection"][0].startswith(f"Recommended: {pick}")
    assert "## Why this model" in card and "landmark error" in card
    source = (out / "model.py").read_text()
    assert not re.search(r"^\s*(from|import) autosnap", source, re.M)


def test_the_export_follows_the_final_ranking_not_the_search(smoke_run, tmp_path):
    """The search ranked best1 first. When the final retrainings' validation errors rank
    another candidate first (here made so by editing their tables), the summary, the
    export, the report and `autosnap export RUN` all follow the final ranking; the
    test errors play no part."""
    from autosnap.cli import main

    cwd, _ = smoke_run
    run = tmp_path / "run"
    shutil.copytree(cwd, run, symlinks=True)
    summary = pd.read_parquet(run / "results/final/summary.parquet").set_index("candidate")
    target = "random" if not summary.at["random", "recommended"] else "resnet"
    for path in (run / f"results/final/{target}").glob("seed_*.parquet"):
        table = pd.read_parquet(path)
        table["val_landmark_err_mm"] = 0.01 * (1 + table["seed"])  # seed 0 the lowest
        table.to_parquet(path)
    r = snakemake(run, "--configfile", "config/smoke.yaml", "--cores", "1")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "train_child" not in r.stderr and "rule final:" not in r.stderr  # nothing retrained
    after = pd.read_parquet(run / "results/final/summary.parquet").set_index("candidate")
    assert after.index[after["recommended"]].tolist() == [target]
    assert after.at[target, "recommended_seed"] == 0
    card = json.loads((run / "results/export/model_card.json").read_text())
    assert card["checkpoint"] == f"results/final/{target}/seed_0.pt"
    assert card["architecture"] == after.at[target, "snap"]
    assert f"<b>Recommended: {target}</b>" in (run / "results/report/index.html").read_text()
    assert main(["export", str(run / "results"), "--out", str(tmp_path / "e"), "--data",
                 str(run / "results/data")]) == 0  # fmt: skip
    assert (
        json.loads((tmp_path / "e/model_card.json").read_text())["architecture"]
        == card["architecture"]
    )
    assert main(["export", str(run / "results"), "--candidate", "best1", "--out",
                 str(tmp_path / "b"), "--data", str(run / "results/data")]) == 0  # fmt: skip
    best1 = json.loads((tmp_path / "b/model_card.json").read_text())
    assert best1["architecture"] == after.at["best1", "snap"]
    assert main(["export", str(run / "results"), "--candidate", "best9", "--out",
                 str(tmp_path / "x")]) == 2  # fmt: skip


def test_predict_iterates_from_a_first_guess_on_full_images(smoke_run, tmp_path, caplog):
    """`autosnap predict` on rendered full frames: one row per iteration, the first
    iteration equal to the trained network applied to the patch cut at the guess. With
    no pixel size given it says that it takes the training one."""
    import numpy as np
    import torch

    from autosnap.cli import main
    from autosnap.config import from_dict
    from autosnap.data.config import DataConfig
    from autosnap.data.dataset import Renderer, random_pose
    from autosnap.data.encoding import normalise_images, targets_to_landmarks
    from autosnap.data.patches import from_patch, patch_grid, sample_image
    from autosnap.data.pose import in_plane_angle
    from autosnap.training.checkpoint import load_checkpoint

    cwd, _ = smoke_run
    cfg = from_dict(DataConfig, yaml.safe_load((cwd / "config/smoke.yaml").read_text())["data"],
                    "data")  # fmt: skip
    renderer = Renderer.create(cfg, np.random.SeedSequence(5))
    rng = np.random.default_rng(5)
    rows = []
    for i in range(3):
        pose = random_pose(rng, cfg)
        np.save(tmp_path / f"frame{i}.npy", renderer.full_image(rng, "screw", pose))
        lm = cfg.geometry.project(pose.landmarks_3d())
        rows.append({"file": f"frame{i}.npy", "col": lm[0, 0] + 2.0, "row": lm[0, 1] - 1.5,
                     "angle_deg": in_plane_angle(lm) + 10.0})  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "guesses.csv", index=False)
    out = tmp_path / "poses.parquet"
    args = ["predict", str(cwd / "results/export"), "--images", str(tmp_path), "--guesses",
            str(tmp_path / "guesses.csv"), "--iterations", "2", "--out", str(out),
            "--all-iterations"]  # fmt: skip
    assert main(args) == 0
    assert "no --mm-per-px and no mm_per_px column in" in caplog.text
    assert re.search(r"at the training pixel size \(0\.\d+ mm/px\)", caplog.text), caplog.text
    poses = pd.read_parquet(out)
    assert len(poses) == 3 * 3 and list(poses["iteration"][:3]) == [0, 1, 2]
    first = poses[poses["iteration"] == 0].reset_index(drop=True)
    assert np.allclose(first[["col", "row", "angle_deg"]], pd.DataFrame(rows)[["col", "row",
                       "angle_deg"]])  # fmt: skip
    card = json.loads((cwd / "results/export/model_card.json").read_text())
    ck = load_checkpoint(cwd / card["checkpoint"])
    g = rows[0]
    image = np.load(tmp_path / "frame0.npy")
    image = image / image.max()  # read_image scales floats by their maximum
    patch = sample_image(image, patch_grid((g["col"], g["row"]), g["angle_deg"], ck.input_shape))
    with torch.no_grad():
        y = ck.model(torch.from_numpy(normalise_images(patch[None, None]))).numpy()
    expected = from_patch(targets_to_landmarks(y, *ck.input_shape)[0], (g["col"], g["row"]),
                          g["angle_deg"], ck.input_shape)  # fmt: skip
    got = np.array(poses.loc[1, "landmarks"]).reshape(6, 2)
    assert np.abs(got - expected).max() < 1e-3
    bad = tmp_path / "bad.csv"
    bad.write_text("file,col,row\nframe0.npy,1,2\n")
    assert main([*args[:5], str(bad), "--out", str(out)]) == 2
    # by default one row per image, the last iteration's, with whether it converged
    caplog.clear()
    assert main([*args[:-1], "--tolerance-px", "1e-9"]) == 0
    last = pd.read_parquet(out)
    assert list(last["iteration"]) == [2, 2, 2] and not last["converged"].any()
    assert "3 of 3 image(s) did not converge" in caplog.text
    assert "frame0.npy, frame1.npy, frame2.npy" in caplog.text
    # an instrument the model never saw (the card lists the training split's) is named
    pd.DataFrame(rows).assign(instrument=["screw", "k-wire", "drill"]).to_csv(
        tmp_path / "guesses.csv", index=False)  # fmt: skip
    caplog.clear()
    assert main(args[:-1]) == 0
    assert list(pd.read_parquet(out)["known_instrument"]) == [True, False, True]
    assert (
        "1 image(s) show an instrument the model was not trained on (it knows drill, "
        "screw): frame1.npy (k-wire)" in caplog.text
    )


def test_status_reads_a_search_as_it_stands(smoke_run, tmp_path):
    """`autosnap status` per round, on the finished search and on one whose last round
    is still waiting for two children (as a running search is)."""
    cwd, _ = smoke_run
    cfg = yaml.safe_load((cwd / "config/smoke.yaml").read_text())["search"]
    last = cfg["rounds"] - 1
    history = pd.read_parquet(cwd / f"results/round_{last}/history.parquet")
    r = subprocess.run([AUTOSNAP, "status", str(cwd / "results")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:6] == ["round", "proposed", "done", "ok", "failed", "waiting"]
    row = lines[1 + last].split()
    assert row[:6] == [str(last), *[str(cfg["children"])] * 3, "0", "0"]
    assert float(row[6]) == pytest.approx(history["value"].max(), abs=5e-4)
    partial = tmp_path / "results"
    shutil.copytree(cwd / "results", partial, ignore=shutil.ignore_patterns("*.pt", "report"))
    for slot in (0, 1):
        (partial / f"round_{last}/children/{slot}.parquet").unlink()
    r = subprocess.run([AUTOSNAP, "status", str(partial)], capture_output=True, text=True)
    row = r.stdout.splitlines()[1 + last].split()
    assert row[2] == str(cfg["children"] - 2) and row[5] == "2", r.stdout


def test_a_run_and_status_end_with_the_final_comparison(smoke_run):
    """The run's last lines are the final table (candidates, test error in mm ± sd,
    parameters), not file paths; `autosnap status` shows it too, and says why a tau
    column is empty."""
    cwd, _ = smoke_run
    summary = pd.read_parquet(cwd / "results/final/summary.parquet")
    run = (cwd / "snakemake.out").read_text()
    table = run[run.index("Final comparison (2 training seeds each") :]
    rows = table.splitlines()[2 : 2 + len(summary)]
    for line, (_, s) in zip(rows, summary.iterrows(), strict=True):
        assert line.split()[0] == s["candidate"], table
        assert (line.split()[1] == "*") == s["recommended"], line
        assert f"{s['landmark_err_mm_mean']:.3f} ± {s['landmark_err_mm_std']:.3f} mm" in line
        assert f"{s['val_landmark_err_mm_mean']:.3f} ± " in line
    pick = summary[summary["recommended"]].iloc[0]
    assert f"Recommended: {pick['candidate']} " in table and "(i3PosNet-like network)" in table
    assert "autosnap export results --candidate NAME --out DIR" in table
    assert "Next steps:" in table and "autosnap predict results/export --images" in table
    r = subprocess.run([AUTOSNAP, "status"], capture_output=True, text=True, cwd=cwd)
    assert r.returncode == 0 and table.split("Next steps:")[0].strip() in r.stdout, r.stdout
    assert "elapsed " in r.stdout and "(finished)" in r.stdout
    assert "heldout_tau -: no child was held out of the fit" in r.stdout
    assert "tau_of_proposals -: the round's proposals carry no predicted values" in r.stdout


def test_predict_resamples_images_of_another_pixel_size(smoke_run, tmp_path):
    """The training pixel size travels in the model card and the ONNX metadata; an image
    at half the pixel size (here: a frame upsampled 2x), predicted with --mm-per-px,
    gives the same landmarks as the original frame, scaled."""
    import json

    import numpy as np
    import onnx

    from autosnap.cli import main

    cwd, _ = smoke_run
    export = cwd / "results/export"
    card = json.loads((export / "model_card.json").read_text())
    trained = card["mm_per_px"]
    data = pd.read_parquet(cwd / "results/data/train.parquet")
    assert trained == pytest.approx(float(np.median(data["mm_per_px"])), rel=1e-6)
    meta = {p.key: p.value for p in onnx.load(export / "model.onnx").metadata_props}
    assert float(meta["mm_per_px"]) == pytest.approx(trained)
    test = pd.read_parquet(cwd / "results/data/test.parquet").iloc[0]
    frame = np.frombuffer(test["image"], dtype=np.float32).reshape(test["height"], test["width"])
    np.save(tmp_path / "a.npy", frame)
    np.save(tmp_path / "b.npy", np.kron(frame, np.ones((2, 2), dtype=np.float32)))
    c, r = (test["width"] - 1) / 2, (test["height"] - 1) / 2  # the patch centre
    pd.DataFrame([{"file": "a.npy", "col": c, "row": r, "angle_deg": 0.0}]).to_csv(
        tmp_path / "a.csv", index=False)  # fmt: skip
    pd.DataFrame([{"file": "b.npy", "col": 2 * c + 0.5, "row": 2 * r + 0.5, "angle_deg": 0.0,
                   "mm_per_px": trained / 2}]).to_csv(tmp_path / "b.csv", index=False)  # fmt: skip

    def landmarks(name: str, *extra: str) -> np.ndarray:
        out = tmp_path / f"{name}.parquet"
        assert main(["predict", str(export), "--images", str(tmp_path), "--guesses",
                     str(tmp_path / f"{name}.csv"), "--iterations", "1", "--out", str(out),
                     *extra]) == 0  # fmt: skip
        return np.array(pd.read_parquet(out)["landmarks"].iloc[-1]).reshape(6, 2)

    a, b = landmarks("a"), landmarks("b")
    assert np.abs((b - 0.5) / 2 - a).max() < 0.25, (a, b)  # in pixels of the original
    pd.read_csv(tmp_path / "b.csv").drop(columns="mm_per_px").to_csv(
        tmp_path / "b.csv", index=False
    )
    unscaled = landmarks("b")  # the same image taken to be at the training pixel size
    assert np.abs((unscaled - 0.5) / 2 - a).max() > 1.0
    assert np.abs(landmarks("b", "--mm-per-px", str(trained / 2)) - b).max() < 1e-6


def test_nothing_reruns_after_a_finished_search(smoke_run):
    cwd, _ = smoke_run
    assert planned(cwd, "--configfile", "config/smoke.yaml") == {}


def test_switching_to_your_own_images_remakes_the_data(smoke_run, tmp_path):
    """After a finished simulated search, a config that imports images plans the data
    again, and with them every child: the data source decides, not the old files."""
    cwd, _ = smoke_run
    overlay = tmp_path / "own.yaml"
    overlay.write_text(yaml.safe_dump({"data": {
        "source": "import", "images": "resources/example_data/images",
        "poses": "resources/example_data/poses.csv"}}))  # fmt: skip
    jobs = planned(cwd, "--configfile", "config/smoke.yaml", str(overlay))
    assert jobs.get("prepare_data") == 1 and jobs.get("train_child_0") == 2, jobs


@pytest.mark.parametrize(
    "data, line",
    [
        ({"images": "my_xrays/", "poses": "poses.csv"}, "data.poses: pose table 'poses.csv'"),
        ({"images": "my_xrays/", "poses": "resources/example_data/poses.csv"},
         "data.images: image folder 'my_xrays'"),
    ],
)  # fmt: skip
def test_a_wrong_data_path_fails_before_any_job_and_keeps_the_results(
    smoke_run, tmp_path, data, line
):
    """A real run (and a dry run) with an image folder or pose table that is not there
    stops with one line naming the config, the key and the path, and leaves the earlier
    run's results as they were."""
    cwd, _ = smoke_run
    before = {p: p.stat().st_mtime_ns for p in (cwd / "results").rglob("*")}
    overlay = tmp_path / "own.yaml"
    overlay.write_text(yaml.safe_dump({"data": {"source": "import", **data}}))
    for dry in (["-n"], ["--cores", "1"]):
        r = snakemake(cwd, *dry, "--configfile", "config/smoke.yaml", str(overlay))
        assert r.returncode != 0, r.stdout[-2000:]
        found = [x for x in (r.stdout + r.stderr).splitlines() if line in x]
        assert len(found) == 1 and f"{overlay}: " in found[0], r.stdout + r.stderr
        assert f"(relative to {cwd})" in found[0] and found[0].endswith("not found")
    assert {p: p.stat().st_mtime_ns for p in (cwd / "results").rglob("*")} == before


def test_editing_a_script_or_an_unrelated_key_retrains_no_child(smoke_run, tmp_path):
    cwd, _ = smoke_run
    script = cwd / "workflow/scripts/train_children.py"
    original = script.read_text()
    script.write_text(original.replace('"""Rules', '"""Edited docstring. Rules'))
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("final:\n  train: {epochs: 4}\n")
    try:
        jobs = planned(cwd, "--configfile", "config/smoke.yaml", str(overlay))
    finally:
        script.write_text(original)
    assert not any(rule.startswith(("train_child", "train_random")) for rule in jobs)
    assert jobs.get("final") == 8  # the final budget's own params did change


def test_changing_the_value_model_retrains_only_later_rounds(smoke_run, tmp_path):
    cwd, _ = smoke_run
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("value_model:\n  steps: 151\n")
    r = snakemake(cwd, "-n", "--configfile", "config/smoke.yaml", str(overlay))
    assert r.returncode == 0, r.stderr
    assert "results/round_1/children/0.parquet" in r.stdout
    assert "results/round_0/children/0.parquet" not in r.stdout


def test_changing_the_training_budget_retrains_children(smoke_run, tmp_path):
    cwd, _ = smoke_run
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("train:\n  epochs: 3\n")
    jobs = planned(cwd, "--configfile", "config/smoke.yaml", str(overlay))
    assert sum(n for rule, n in jobs.items() if rule.startswith("train_child")) >= 2
    assert jobs.get("final") == 8


def test_the_search_components_run_through_the_rules(smoke_run, tmp_path):
    """Issue #15's components all on (pretrained auto-encoder, UCB heads, the scored pool
    with credit per source, the trust region) through the real rules, on a copy of the
    smoke run without round 0's value model and round 1: pretraining runs as its own job,
    round 0's fit starts from it, round 1's proposals come from the pool's sources, and
    nothing before the fit reruns (no child is trained again)."""
    cwd = workdir(tmp_path)
    shutil.copytree(smoke_run[0] / "results", cwd / "results")
    # what the components make; the copy has no .snakemake metadata, so whatever exists
    # counts as done and only these are made anew
    for made in ("round_0/value_model.pt", "round_0/value_model.parquet"):
        (cwd / "results" / made).unlink()
    shutil.rmtree(cwd / "results/round_1")
    before = trainings(cwd)
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({
        "value_model": {"pretrain_steps": 30, "pretrain_pool": 200, "heads": 3},
        "search": {"autosnap": {"candidates": 40, "per_parent": 2, "beta": 1.0,
                                "trust_radius": 1.0, "source_credit": True}},
    }))  # fmt: skip
    target = "results/round_1/proposals.parquet"
    r = snakemake(cwd, "--configfile", "config/smoke.yaml", str(overlay), "--cores", "2", target)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (cwd / "results/value_model/pretrained.pt").exists()
    assert re.search(r"rule pretrain:", r.stdout + r.stderr)
    props = pd.read_parquet(cwd / target)
    history = pd.read_parquet(cwd / "results/round_0/history.parquet")
    assert len(props) == 4 and props["snap_id"].is_unique
    assert not set(props["snap_id"]) & set(history["snap_id"])
    # credit's prior shares the 4 picks among the 4 sources before any has a record
    assert set(props["origin"]) <= {"ascent", "mutation", "evolution", "random"}
    assert props["origin"].nunique() >= 3, props["origin"].tolist()
    assert props["predicted_value"].notna().all()
    fit = pd.read_parquet(cwd / "results/round_0/value_model.parquet")
    assert len(fit) == 1 and fit.at[0, "n_evaluated"] == len(history)
    pd.testing.assert_series_equal(trainings(cwd), before)


#: Columns that measure time, not the result: they differ between any two runs.
TIMING = ["train_seconds", "latency_ms"]


def result_tables(cwd: Path) -> dict[str, pd.DataFrame]:
    """Every child, history and final table of a run, less its timing columns."""
    results = cwd / "results"
    paths = [*results.glob("round_*/children/*.parquet"), *results.glob("round_*/history.parquet"),
             *results.glob("random/**/*.parquet"), *results.glob("final/**/*.parquet")]  # fmt: skip
    return {
        str(p.relative_to(results)): pd.read_parquet(p).drop(columns=TIMING, errors="ignore")
        for p in sorted(paths)
        if "proposals" not in p.name
    }


def trainings(cwd: Path) -> pd.Series:
    """How often each child was trained to the end, from the child cache's ledger."""
    ledger = pd.read_json(cwd / "results/cache/children/trainings.jsonl", lines=True)
    return ledger["child"].value_counts()


#: the search's last table: the interruption tests stop there, since the final stage
#: after it is ordinary Snakemake reruns and would double their time
SEARCH_END = "results/round_1/history.parquet"


def interrupt(cwd: Path, ready: Path, sig: signal.Signals) -> None:
    """Start the smoke search and send `sig` to its whole process group (Snakemake and
    every job, as Ctrl-C in a terminal or a power loss would) once `ready` exists."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    proc = subprocess.Popen(
        [SNAKEMAKE, "--configfile", "config/smoke.yaml", "--cores", "2", SEARCH_END], cwd=cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    while not ready.exists() and proc.poll() is None:
        time.sleep(0.1)
    assert ready.exists(), f"the run ended before {ready} appeared"
    os.killpg(proc.pid, sig)
    proc.wait(timeout=HANG_S)


def test_a_search_stopped_twice_ends_as_an_uninterrupted_one(smoke_run, tmp_path):
    """Stopped by Ctrl-C in round 0, then, resumed, by kill -9 in round 1, the next run
    (after the --unlock Snakemake needs after a kill) ends the search with every child
    and history table equal to an uninterrupted run's in every value column; no table
    finished before a stop is rewritten, no finished child is trained again, none is
    counted as killed. One run stopped twice, not two runs: each costs most of a smoke
    search, and the second stop also tests a resumed run."""
    cwd = workdir(tmp_path)
    kept: dict[str, pd.DataFrame] = {}
    for sig, point in [(signal.SIGINT, "round_0/children/0.parquet"),
                       (signal.SIGKILL, "round_1/children/0.parquet")]:  # fmt: skip
        interrupt(cwd, cwd / "results" / point, sig)
        kept = result_tables(cwd) | kept  # every table present is complete; first read wins
    assert snakemake(cwd, "--unlock", "--configfile", "config/smoke.yaml").returncode == 0
    r = snakemake(cwd, "--configfile", "config/smoke.yaml", "--cores", "2", SEARCH_END)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    after, reference = result_tables(cwd), result_tables(smoke_run[0])
    reference = {name: t for name, t in reference.items() if name.startswith("round_")}
    assert after.keys() == reference.keys()
    for name, table in after.items():
        pd.testing.assert_frame_equal(table, reference[name], obj=name)
        if name in kept:
            pd.testing.assert_frame_equal(table, kept[name], obj=f"{name} (rewritten)")
    assert "round_0/children/0.parquet" in kept and "round_1/children/0.parquet" in kept
    assert trainings(cwd).max() == 1, trainings(cwd)
    assert not list((cwd / "results/cache/children").glob("*.started"))
