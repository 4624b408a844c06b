"""What the search needs on imported radiographs to beat the i3PosNet-like network.

Each variant is the whole workflow on `config/own_data.yaml` with one lever moved: more
patches per image, more images, longer child trainings, one instrument instead of two.
The larger image sets are written by `autosnap data example` (the committed example's
own generator, seed 0), so every variant's images come from the same simulation. Each
variant runs in its own folder under benchmarks/work/own_data_levers/ (a rerun resumes
it) and adds a row as soon as it is done:

    python -m benchmarks run benchmarks/experiments/own_data_levers.yaml

Writes `own_data_levers.csv`: per variant the training images and patches, the child and
final epochs, each final candidate's test landmark error (mean and sd over the final
seeds), the best found block's error relative to the i3PosNet-like network's, the range
of the children's validation errors, and the run's summed job hours.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from autosnap.tables import read_table
from benchmarks.measure import machine, publish
from benchmarks.measure.i3posnet import job_seconds

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
ROOT = HERE.parent
BIN = Path(sys.executable).parent
WORK = HERE / "work" / "own_data_levers"

#: The example as first committed: 24 patches from each of the 24 images.
BASE = {"data": {"patches_per_image": 24}}
#: name -> (images written by `autosnap data example` (0: the committed 24), only these
#: instruments (None: all), config laid over config/own_data.yaml, BASE first)
VARIANTS: dict[str, tuple[int, str | None, dict]] = {
    "committed": (0, None, {}),
    "patches_x2.7": (0, None, {"data": {"patches_per_image": 64}}),
    "images_x2.7": (64, None, {}),
    "screw_only": (64, "screw", {"data": {"patches_per_image": 48}}),
    "epochs_x3": (0, None, {"train": {"epochs": 12}, "final": {"train": {"epochs": 18}}}),
}


def prepare(name: str, work: Path) -> list[str]:
    """Lay out the variant's folder (workflow, configs, images) and return the
    snakemake command that runs it."""
    images, instrument, change = VARIANTS[name]
    override = {**BASE, **change, "data": {**BASE["data"], **change.get("data", {})}}
    for sub in ("workflow", "config", "resources"):
        if not (work / sub).exists():
            shutil.copytree(ROOT / sub, work / sub, ignore=shutil.ignore_patterns("ct"))
    data = override.setdefault("data", {})
    if images:
        folder = work / "images_set"
        if not (folder / "poses.csv").exists():
            run([str(BIN / "autosnap"), "data", "example", "--out", str(folder), "-n",
                 str(images), "--seed", "0"], work)  # fmt: skip
        data.update(images=str(folder / "images"), poses=str(folder / "poses.csv"))
    if instrument:
        source = Path(data.get("poses", work / "resources/example_data/poses.csv"))
        table = pd.read_csv(source)
        table[table["instrument"] == instrument].to_csv(work / "poses_subset.csv", index=False)
        data.update(poses=str(work / "poses_subset.csv"))
    (work / "variant.yaml").write_text(yaml.safe_dump(override))
    return [str(BIN / "snakemake"), "--configfile", "config/own_data.yaml", "variant.yaml",
            "--cores", "2", "--quiet", "all"]  # fmt: skip


def run(cmd: list[str], cwd: Path) -> None:
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(cwd)}
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{done.stderr[-3000:]}")


def row(name: str, work: Path, wall: float) -> dict:
    results = work / "results"
    summary = read_table(results / "final" / "summary.parquet").set_index("candidate")
    train = read_table(results / "data" / "train.parquet")
    history = read_table(sorted(results.glob("round_*/history.parquet"))[-1])
    ok = history[history["status"] == "ok"]
    cfg = yaml.safe_load((work / "variant.yaml").read_text())
    own = yaml.safe_load((work / "config/own_data.yaml").read_text())["data"]
    patches_per_image = cfg.get("data", {}).get("patches_per_image", own["patches_per_image"])
    out = {
        "variant": name,
        "train_images": len(train) // patches_per_image,
        "train_patches": len(train),
        "instruments": ",".join(sorted(train["instrument"].unique())),
        "child_epochs": cfg.get("train", {}).get("epochs", 4),
        "final_epochs": cfg.get("final", {}).get("train", {}).get("epochs", 6),
        "children": len(history),
        "child_val_err_min": ok["landmark_err_mm"].min(),
        "child_val_err_max": ok["landmark_err_mm"].max(),
    }
    for cand in summary.index:
        out[f"{cand}_snap"] = summary.at[cand, "snap"]
        out[f"{cand}_err_mm"] = summary.at[cand, "landmark_err_mm_mean"]
        out[f"{cand}_err_sd"] = summary.at[cand, "landmark_err_mm_std"]
    found = min(summary.at[c, "landmark_err_mm_mean"] for c in summary.index
                if c.startswith("best"))  # fmt: skip
    out["best_found_vs_i3posnet"] = found / summary.at["i3posnet", "landmark_err_mm_mean"] - 1
    out["job_hours"] = job_seconds(results) / 3600
    out["wall_s"] = wall
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--out", default=str(HERE / "results"))
    args = p.parse_args(argv)
    rows = []
    for name in args.variants:
        work = WORK / name
        work.mkdir(parents=True, exist_ok=True)
        cmd = prepare(name, work)
        start = time.perf_counter()
        run(cmd, work)
        rows.append(row(name, work, time.perf_counter() - start))
        table = pd.DataFrame(rows)
        table["machine"] = machine()
        publish(table, args.out, "own_data_levers")


if __name__ == "__main__":
    main()
