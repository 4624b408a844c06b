"""Pose from landmarks, as in i3PosNet, and the metrics a child is scored by.

The in-plane angle comes from a total-least-squares line through the four on-axis
landmarks (axial coordinates -1.5, 0, 1.5, 3 mm), oriented from the head towards the
tip; the position is the point of that line nearest to the two estimates of the
reference point (landmark 0, and the midpoint of the two landmarks across the axis).
"""

from __future__ import annotations

import numpy as np

#: Indices of the on-axis landmarks and their axial coordinates (mm).
ON_AXIS = np.array([3, 0, 1, 2])
AXIAL_MM = np.array([-1.5, 0.0, 1.5, 3.0])


def recover_pose(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference point (N, 2) in (col, row) and axis angle (N,) in degrees from
    landmarks (N, 6, 2)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    pts = lm[:, ON_AXIS]
    centre = pts.mean(axis=1, keepdims=True)
    # principal direction of the on-axis points (total least squares)
    _, _, vt = np.linalg.svd(pts - centre)
    direction = vt[:, 0]
    # orient from head to tip: projections must grow with the axial coordinate
    proj = np.einsum("nkd,nd->nk", pts - centre, direction)
    sign = np.sign(proj @ (AXIAL_MM - AXIAL_MM.mean()))
    direction = direction * np.where(sign == 0, 1.0, sign)[:, None]
    reference = 0.5 * (lm[:, 0] + 0.5 * (lm[:, 4] + lm[:, 5]))
    along = np.einsum("nd,nd->n", reference - centre[:, 0], direction)
    position = centre[:, 0] + along[:, None] * direction
    angle = np.degrees(np.arctan2(direction[:, 1], direction[:, 0]))
    return position, angle


def in_plane_angle(landmarks_px: np.ndarray) -> float:
    """Image angle (deg) of the projected axis, from the reference point to (3, 0)."""
    d = landmarks_px[2] - landmarks_px[0]
    return float(np.degrees(np.arctan2(d[1], d[0])))


def angle_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| in degrees, wrapped to [0, 180]."""
    return np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)


def pose_metrics(pred: np.ndarray, true: np.ndarray, mm_per_px: np.ndarray) -> dict[str, float]:
    """Mean landmark error (mm), reference point error (mm) and angle error (deg)."""
    mm = np.asarray(mm_per_px, dtype=np.float64)
    landmark = (np.linalg.norm(pred - true, axis=-1) * mm[:, None]).mean()
    p_pos, p_angle = recover_pose(pred)
    t_pos, t_angle = recover_pose(true)
    return {
        "landmark_err_mm": float(landmark),
        "position_err_mm": float((np.linalg.norm(p_pos - t_pos, axis=-1) * mm).mean()),
        "angle_err_deg": float(angle_difference(p_angle, t_angle).mean()),
    }


def value_of(landmark_err_mm: float) -> float:
    """The search objective: -log10 of the mean landmark error in mm (higher is better)."""
    return float(-np.log10(landmark_err_mm))
