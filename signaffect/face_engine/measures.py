"""The contract's derived measures from one face's landmarks and transformation matrix.

Why here: every definition (which landmark is a brow's inner end, which way pitch is
positive) is written once, in the conventions of signaffect/face_engine/schema.py.
Landmark numbers are MediaPipe's 478-point face mesh; the signer's right eye is the one on
the image's left. "Vertical" is the face's own up direction (perpendicular to the line
between the eyes), so a tilted head does not read as a raised brow.
"""

from __future__ import annotations

import math

import numpy as np

# Eye corners (outer, inner): their midpoint is the eye's centre.
RIGHT_EYE = (33, 133)
LEFT_EYE = (263, 362)
# Brow points on the brow's upper edge: inner = end nearest the nose.
BROWS = {
    "brow_inner_left": (336, LEFT_EYE),
    "brow_inner_right": (107, RIGHT_EYE),
    "brow_outer_left": (300, LEFT_EYE),
    "brow_outer_right": (70, RIGHT_EYE),
}
# Upper and lower lid at the eye's middle; inner upper and lower lip at the middle.
LIDS = {"eye_aperture_left": (386, 374), "eye_aperture_right": (159, 145)}
MOUTH = (13, 14)


def shape_measures(points: np.ndarray) -> dict[str, float]:
    """Inter-ocular distance in pixels and the brow, eye and mouth measures divided by it."""
    right = points[list(RIGHT_EYE)].mean(axis=0)
    left = points[list(LEFT_EYE)].mean(axis=0)
    across = left - right
    inter_ocular = float(np.hypot(*across))
    if inter_ocular == 0:
        return {"inter_ocular_px": 0.0}
    unit = across / inter_ocular
    up = np.array([unit[1], -unit[0]])  # image y grows downwards: up is (ux, uy) turned -90°

    def height(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.dot(a - b, up)) / inter_ocular

    centres = {LEFT_EYE: left, RIGHT_EYE: right}
    measures = {"inter_ocular_px": inter_ocular}
    for name, (brow, eye) in BROWS.items():
        measures[name] = height(points[brow], centres[eye])
    for name, (upper, lower) in LIDS.items():
        measures[name] = height(points[upper], points[lower])
    measures["mouth_opening"] = height(points[MOUTH[0]], points[MOUTH[1]])
    return measures


def head_pose(matrix: np.ndarray) -> dict[str, float]:
    """Pitch, yaw and roll in degrees from MediaPipe's facial transformation matrix.

    The matrix maps the canonical face (x to the image's right, y up, z towards the camera)
    into camera space; its rotation is taken as R = Ry(a) Rx(b) Rz(c) (yaw outermost). A
    positive b lowers the chin, a positive a turns the face to the image's right and a
    positive c tilts the head to the image's left, so the contract's angles are their
    negatives (chin up, turned to the image's left, tilted to the image's right: positive).
    """
    rotation = np.asarray(matrix, dtype=np.float64)[:3, :3]
    rotation = rotation / np.linalg.norm(rotation, axis=0)  # the matrix may carry a scale
    b = math.asin(max(-1.0, min(1.0, -rotation[1, 2])))
    a = math.atan2(rotation[0, 2], rotation[2, 2])
    c = math.atan2(rotation[1, 0], rotation[1, 1])
    return {
        "head_pitch_deg": -math.degrees(b),
        "head_yaw_deg": -math.degrees(a),
        "head_roll_deg": -math.degrees(c),
    }
