"""Does i3PosNet's crop-predict-reconstruct loop pay off? Pose error per iteration of
`autosnap predict` on freshly rendered frames with known poses.

Frames are rendered with the data config of a finished run (new seed, so none was
trained on); the first guess is the true reference point moved by up to the config's
`max_displacement_mm` and the true angle turned by up to `max_rotation_deg`, as the
training patches were cut. Iteration 0 is the guess.

    python -m benchmarks run benchmarks/experiments/predict_iterations.yaml

Needs `results/export` of the run (rule all writes it). Writes
benchmarks/results/predict_iterations.csv.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from autosnap.config import from_dict, load_yaml
from autosnap.data.config import DataConfig
from autosnap.data.dataset import Renderer, random_pose
from autosnap.data.pose import in_plane_angle
from autosnap.deploy.predict import predict_poses
from benchmarks.measure import machine, publish

HERE = Path(__file__).resolve().parents[1]  # benchmarks/


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default=".", help="folder of a finished run (config + results)")
    p.add_argument("--config", default="config/config.yaml")
    p.add_argument("--frames", type=int, default=100)
    p.add_argument("--iterations", type=int, default=4)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--out", default=str(HERE / "results"))
    args = p.parse_args(argv)
    run = Path(args.run)
    cfg = from_dict(DataConfig, load_yaml(run / args.config)["data"], "data")
    renderer = Renderer.create(cfg, np.random.SeedSequence(args.seed))
    rng = np.random.default_rng(args.seed)
    truth, guesses = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.frames):
            pose = random_pose(rng, cfg)
            name = cfg.instruments[rng.integers(len(cfg.instruments))]
            np.save(Path(tmp) / f"{i}.npy", renderer.full_image(rng, name, pose))
            lm = cfg.geometry.project(pose.landmarks_3d())
            mm = float(cfg.geometry.mm_per_px(pose.z_mm))
            r = cfg.max_displacement_mm * np.sqrt(rng.random()) / mm
            phi = rng.uniform(0, 2 * np.pi)
            angle = in_plane_angle(lm)
            truth.append({"file": f"{i}.npy", "true_col": lm[0, 0], "true_row": lm[0, 1],
                          "true_angle": angle, "mm_per_px": mm})  # fmt: skip
            turn = rng.uniform(-cfg.max_rotation_deg, cfg.max_rotation_deg)
            col, row = lm[0, 0] + r * np.cos(phi), lm[0, 1] + r * np.sin(phi)
            guesses.append({"file": f"{i}.npy", "col": col, "row": row, "angle_deg": angle + turn})
        pd.DataFrame(guesses).to_csv(Path(tmp) / "guesses.csv", index=False)
        poses = predict_poses(run / "results/export", tmp, Path(tmp) / "guesses.csv",
                              Path(tmp) / "poses.parquet", args.iterations,
                              all_iterations=True)  # fmt: skip
    df = poses.merge(pd.DataFrame(truth), on="file")
    df["position_err_mm"] = (
        np.hypot(df["col"] - df["true_col"], df["row"] - df["true_row"]) * (df["mm_per_px"])
    )
    df["angle_err_deg"] = np.abs((df["angle_deg"] - df["true_angle"] + 180) % 360 - 180)
    table = df.groupby("iteration")[["position_err_mm", "angle_err_deg"]].agg(
        ["median", "mean", lambda s: s.quantile(0.9)]
    )
    table.columns = [f"{c}_{'p90' if s == '<lambda_0>' else s}" for c, s in table.columns]
    table = table.reset_index()
    table["frames"] = args.frames
    table["architecture"] = json.loads((run / "results/export/model_card.json").read_text())[
        "architecture"
    ]
    table["machine"] = machine()
    publish(table, args.out, "predict_iterations")


if __name__ == "__main__":
    main()
