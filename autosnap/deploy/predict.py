"""Pose estimation with an exported model, as i3PosNet does it at inference time.

Given an image and a first guess of the instrument's pose (reference point and axis
angle in pixels, from the previous frame, a tracker or a click), repeat: cut the patch
around the guess, predict the six landmarks, map them back into the image and recover
position and angle; that pose is the next guess. Each step re-centres and de-rotates the
patch, so the network sees inputs like its training patches and the error shrinks over
the first iterations. Needs only the exported ONNX model and its model card.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from autosnap.data.encoding import normalise_images, targets_to_landmarks
from autosnap.data.importer import read_image
from autosnap.data.patches import cut_patch, from_patch
from autosnap.data.pose import recover_pose
from autosnap.errors import InputError
from autosnap.progress import log, track
from autosnap.tables import read_table, write_table

GUESS_COLUMNS = ["file", "col", "row", "angle_deg"]


class ExportedModel:
    """An `autosnap export` folder: the ONNX network (run by onnxruntime, the format
    meant for deployment; torch deprecates TorchScript) and its model card."""

    def __init__(self, folder: str | Path):
        import onnxruntime as ort

        folder = Path(folder)
        card, onnx = folder / "model_card.json", folder / "model.onnx"
        for f in (card, onnx):
            if not f.exists():
                raise InputError(f"{folder}: no {f.name}; expected an `autosnap export` folder")
        self.card = json.loads(card.read_text())
        self.shape = tuple(self.card["input_shape"][1:])
        self.session = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])

    def scale(self, mm_per_px: float | None) -> float:
        """Image pixels per patch pixel for images of `mm_per_px` (None: as trained)."""
        if mm_per_px is None:
            return 1.0
        trained = self.card.get("mm_per_px")
        if trained is None:
            raise InputError("the model card has no training pixel size (mm_per_px): "
                             "re-export it with this version to use --mm-per-px")  # fmt: skip
        if not mm_per_px > 0:
            raise InputError(f"mm_per_px must be positive, got {mm_per_px}")
        return float(trained) / float(mm_per_px)

    def landmarks(self, image: np.ndarray, centre: tuple[float, float], angle: float,
                  scale: float = 1.0) -> np.ndarray:  # fmt: skip
        """Predicted landmarks (6, 2) in image pixels for the patch cut at (centre, angle),
        resampled to the training pixel size (`scale` image pixels per patch pixel)."""
        patch = cut_patch(image, centre, angle, self.shape, scale=scale)
        (y,) = self.session.run(None, {"patch": normalise_images(patch[None, None])})
        pred = targets_to_landmarks(y, *self.shape)[0]
        return from_patch(pred, centre, angle, self.shape, scale)


#: Default tolerance of `converged`: the last iteration moved the reference point less.
TOLERANCE_PX = 0.5


def angle_range(angles: pd.Series) -> float:
    """The lower end of the input's angle range: -180 when any guess is negative (angles
    in (-180, 180]), else 0 (angles in [0, 360)); outputs are given in the same."""
    return -180.0 if (angles < 0).any() else 0.0


def wrap(angle: float, low: float) -> float:
    """`angle` in [low, low + 360), or (-180, 180] for low -180."""
    a = (angle - low) % 360.0 + low
    return a + 360.0 if low < 0 and a == -180.0 else a


def check_instruments(table: pd.DataFrame, card: dict, guesses: str | Path) -> pd.Series:
    """Per row, whether the model was trained on its instrument (True without an
    `instrument` column or a card that names none); warns naming the others."""
    known = set(card.get("instruments") or [])
    if "instrument" not in table.columns or not known:
        return pd.Series(True, index=table.index)
    ok = table["instrument"].astype(str).isin(known)
    if not ok.all():
        bad = table.loc[~ok]
        log.warning(
            "%s: %d image(s) show an instrument the model was not trained on (it knows %s): "
            "%s; their poses are unreliable",
            guesses, len(bad), ", ".join(sorted(known)),
            ", ".join(f"{f} ({n})" for f, n in zip(bad["file"], bad["instrument"], strict=True)),
        )  # fmt: skip
    return ok


def predict_poses(
    model_dir: str | Path,
    images_dir: str | Path,
    guesses: str | Path,
    out: str | Path,
    iterations: int = 3,
    mm_per_px: float | None = None,
    tolerance_px: float = TOLERANCE_PX,
    all_iterations: bool = False,
    invert: bool = False,
) -> pd.DataFrame:
    """One row per image with the pose of the last iteration (with `all_iterations`,
    one per iteration, 0 being the guess); `moved_px` is how far the reference point
    moved in that iteration, `converged` whether the last move was under `tolerance_px`,
    and `known_instrument` whether the model was trained on the row's `instrument`.
    Angles come out in the guesses' convention and range. The images' pixel size at the
    instrument is a `mm_per_px` column of the guesses, or `mm_per_px` for all; without
    either they are taken to be at the training pixel size."""
    if iterations < 0:
        raise InputError(f"iterations must be 0 or more, got {iterations}")
    model = ExportedModel(model_dir)
    table = read_table(guesses, GUESS_COLUMNS)
    if mm_per_px is None and "mm_per_px" not in table.columns:
        trained = model.card.get("mm_per_px")
        log.warning(
            "no --mm-per-px and no mm_per_px column in %s: taking the images to be at the "
            "training pixel size%s; give the pixel size at the instrument if they are not",
            guesses, f" ({trained:.4g} mm/px)" if trained else "",
        )  # fmt: skip
    known = check_instruments(table, model.card, guesses)
    low = angle_range(table["angle_deg"])
    rows = []
    for i, g in track(table.iterrows(), len(table), "predict"):
        image = read_image(Path(images_dir) / str(g.file), invert)
        h, w = image.shape
        if not (0 <= g.col < w and 0 <= g.row < h):
            raise InputError(f"{guesses}: row {i} ({g.file}): guess (col {g.col}, row {g.row}) "
                             f"lies outside the {h}x{w} image")  # fmt: skip
        spacing = g.get("mm_per_px", mm_per_px)
        scale = model.scale(None if spacing is None or pd.isna(spacing) else float(spacing))
        centre, angle = (float(g.col), float(g.row)), float(g.angle_deg)
        path = [{"file": g.file, "iteration": 0, "col": centre[0], "row": centre[1],
                 "angle_deg": wrap(angle, low), "moved_px": np.nan, "landmarks": None}]  # fmt: skip
        for it in range(1, iterations + 1):
            lm = model.landmarks(image, centre, angle, scale)
            pos, ang = recover_pose(lm[None])
            moved = float(np.hypot(pos[0, 0] - centre[0], pos[0, 1] - centre[1]))
            centre, angle = (float(pos[0, 0]), float(pos[0, 1])), float(ang[0])
            path.append({"file": g.file, "iteration": it, "col": centre[0], "row": centre[1],
                         "angle_deg": wrap(angle, low), "moved_px": moved,
                         "landmarks": lm.ravel().tolist()})  # fmt: skip
        converged = bool(path[-1]["moved_px"] < tolerance_px)  # NaN (no iteration): False
        for r in path:
            r.update(converged=converged, known_instrument=bool(known.loc[i]))
        rows += path if all_iterations else path[-1:]
    df = pd.DataFrame(rows)
    last = df.drop_duplicates("file", keep="last")
    stuck = last.loc[~last["converged"], "file"].tolist()
    if stuck and iterations > 0:
        log.warning(
            "%d of %d image(s) did not converge (last move >= %g px after %d iterations): %s; "
            "their poses are unreliable (another instrument, a bad first guess, or more "
            "iterations needed)", len(stuck), len(last), tolerance_px, iterations,
            ", ".join(map(str, stuck)),
        )  # fmt: skip
    write_table(df, out)
    return df
