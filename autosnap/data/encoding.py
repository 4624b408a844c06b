"""The network's input/output contract: how a patch becomes the network's input and how
its 12 outputs become landmarks. Training, export, predict and the report all use it,
and the model card quotes NORMALISATION and OUTPUTS word for word."""

from __future__ import annotations

import numpy as np

NORMALISATION = (
    "patch p = transmitted fraction I/I0 in (0, 1] (metal dark), bilinearly sampled on a "
    "grid centred on the pose estimate with its +column axis along the estimated axis; "
    "a = -log(max(p, 1e-4)); x = (a - mean(a)) / (std(a) + 1e-6) per patch"
)
OUTPUTS = (
    "12 numbers: six landmarks as (col, row) pairs, each (landmark_px - c) / (W / 2) with "
    "c = ((W - 1) / 2, (H - 1) / 2) in patch pixels"
)


def normalise_images(images: np.ndarray) -> np.ndarray:
    """Network input: attenuation (-log of the transmitted fraction), standardised per
    image, so exposure and anatomy thickness do not shift the input range."""
    att = -np.log(np.clip(images, 1e-4, None))
    mean = att.mean(axis=(1, 2, 3), keepdims=True)
    std = att.std(axis=(1, 2, 3), keepdims=True) + 1e-6
    return ((att - mean) / std).astype(np.float32)


def _centre(h: int, w: int) -> np.ndarray:
    return np.array([(w - 1) / 2, (h - 1) / 2], dtype=np.float32)


def landmarks_to_targets(landmarks: np.ndarray, h: int, w: int) -> np.ndarray:
    """Landmark pixels (N, 6, 2) to targets (N, 12) in about [-1, 1] around the centre."""
    return ((landmarks - _centre(h, w)) / (w / 2)).reshape(len(landmarks), -1).astype(np.float32)


def targets_to_landmarks(targets: np.ndarray, h: int, w: int) -> np.ndarray:
    """Network outputs (N, 12) to landmark pixels (N, 6, 2) (col, row) in the patch."""
    return targets.reshape(len(targets), 6, 2) * (w / 2) + _centre(h, w)
