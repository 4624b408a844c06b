"""The built wheel works outside the repository: its instruments and config schema are
package data, so `autosnap data make` renders data from an installed wheel alone."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT

pytestmark = pytest.mark.slow


def test_a_wheel_installed_outside_the_repository_makes_data(tmp_path):
    src = tmp_path / "src"  # only what a source distribution holds: no resources/, no tests
    shutil.copytree(ROOT / "autosnap", src / "autosnap",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(tmp_path / "dist"), str(src)],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    (wheel,) = (tmp_path / "dist").glob("autosnap-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # the dependencies from this environment, by a plain path (.pth files in it, such as
    # the editable install of autosnap, are not processed): autosnap comes from the wheel
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (purelib / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin/python"),
                        "install", "--no-deps", "-q", str(wheel)],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "c.yaml").write_text(
        "data:\n  instruments: [screw, drill]\n  n_train: 6\n  n_val: 2\n  n_test: 2\n"
        "  background_bank: 1\n  geometry: {height: 160, width: 160}\n"
    )
    r = subprocess.run([str(venv / "bin/autosnap"), "data", "make", "--config", "c.yaml",
                        "--out", "d"], cwd=work, capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    probe = [str(venv / "bin/python"), "-c", "import autosnap; print(autosnap.__file__)"]
    where = subprocess.run(probe, cwd=work, capture_output=True, text=True).stdout
    assert str(venv) in where and str(ROOT) not in where, where
    train = pd.read_parquet(work / "d/train.parquet")
    assert len(train) == 6 and set(train["instrument"]) <= {"screw", "drill"}
    (work / "bad.yaml").write_text("data:\n  n_trian: 3\n")
    r = subprocess.run([str(venv / "bin/autosnap"), "data", "make", "--config", "bad.yaml"],
                       cwd=work, capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and "data.n_trian: unknown key (did you mean 'n_train'?)" in r.stderr


def test_the_citation_file_credits_autosnap_and_i3posnet():
    """CITATION.cff (what GitHub's "Cite this repository" reads) has the keys the
    Citation File Format requires and names both papers the README credits."""
    import yaml

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert {"cff-version", "message", "title", "authors"} <= set(cff)
    assert cff["license"] == "MIT" and cff["version"] == tomllib.loads(
        (ROOT / "pyproject.toml").read_text())["project"]["version"]  # fmt: skip
    titles = [r["title"] for r in cff["references"]]
    assert any(t.startswith("AutoSNAP:") for t in titles)
    assert any(t.startswith("i3PosNet:") for t in titles)
