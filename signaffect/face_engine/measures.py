"""The contract's normalised measures from 2-D landmarks, for any landmark scheme.

Why one function: every source that gives landmarks (OpenFace's 68 points here; MediaPipe's
478 with its own index map) must define brow height, eye aperture and mouth opening the same
way, so a measure means one thing whichever tracker produced it (conventions in
signaffect/face_engine/schema.py).

Distances are measured in the face's own frame: "up" is perpendicular to the line from one
eye centre to the other, so a tilted head (roll) does not change its brow height, and every
distance is divided by the inter-ocular distance of the same frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class LandmarkScheme:
    """Which landmark indices make each part. Left and right are the signer's. An eye is its
    contour (its centre is their mean); a lid pair is (upper, lower) points facing each
    other; brows give the inner end (nearest the nose) and the outer end; the lips give the
    inner-lip (upper, lower) midpoints."""

    eye_left: tuple[int, ...]
    eye_right: tuple[int, ...]
    lids_left: tuple[tuple[int, int], ...]
    lids_right: tuple[tuple[int, int], ...]
    brow_inner_left: int
    brow_outer_left: int
    brow_inner_right: int
    brow_outer_right: int
    inner_lips: tuple[int, int]
    n_points: int


#: The iBUG/Multi-PIE 68-point scheme OpenFace writes (x_0..x_67). Points 17-21 and 36-41
#: lie on the image's left, which is the signer's right.
OPENFACE_68 = LandmarkScheme(
    eye_left=(42, 43, 44, 45, 46, 47),
    eye_right=(36, 37, 38, 39, 40, 41),
    lids_left=((43, 47), (44, 46)),
    lids_right=((37, 41), (38, 40)),
    brow_inner_left=22,
    brow_outer_left=26,
    brow_inner_right=21,
    brow_outer_right=17,
    inner_lips=(62, 66),
    n_points=68,
)

#: MediaPipe's 478-point face mesh (the Face Landmarker's): eye contours of 16 points, three
#: lid pairs across each eye's middle, brow points on the brow's upper edge. Points 33-133
#: (and 70, 107) lie on the image's left, the signer's right.
MEDIAPIPE_478 = LandmarkScheme(
    eye_left=(263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
    eye_right=(33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    lids_left=((385, 380), (386, 374), (387, 373)),
    lids_right=((158, 153), (159, 145), (160, 144)),
    brow_inner_left=336,
    brow_outer_left=300,
    brow_inner_right=107,
    brow_outer_right=70,
    inner_lips=(13, 14),
    n_points=478,
)


def derived_measures(x: FloatArray, y: FloatArray, scheme: LandmarkScheme) -> dict[str, FloatArray]:
    """Per frame (rows of `x`, `y`: frames x points, image pixels with y down): the
    inter-ocular distance in pixels and the contract's brow, eye and mouth measures divided
    by it. A frame whose eyes coincide (no usable face) gets NaN everywhere."""
    points = np.stack([x, y], axis=-1)
    left = points[:, list(scheme.eye_left)].mean(axis=1)
    right = points[:, list(scheme.eye_right)].mean(axis=1)
    across = left - right
    iod = np.hypot(across[:, 0], across[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        iod = np.where(iod > 0, iod, np.nan)
        unit = across / iod[:, None]
    # The face's up: the eye line turned a quarter (in y-down image coordinates, the signer's
    # left eye lies at the image's right, so (dy, -dx) points to the forehead).
    up = np.stack([unit[:, 1], -unit[:, 0]], axis=-1)

    def height(point: int, eye: FloatArray) -> FloatArray:
        return np.einsum("ij,ij->i", points[:, point] - eye, up) / iod

    def aperture(pairs: tuple[tuple[int, int], ...]) -> FloatArray:
        gaps = [np.einsum("ij,ij->i", points[:, a] - points[:, b], up) for a, b in pairs]
        return np.mean(gaps, axis=0) / iod

    upper, lower = scheme.inner_lips
    return {
        "inter_ocular_px": iod,
        "brow_inner_left": height(scheme.brow_inner_left, left),
        "brow_inner_right": height(scheme.brow_inner_right, right),
        "brow_outer_left": height(scheme.brow_outer_left, left),
        "brow_outer_right": height(scheme.brow_outer_right, right),
        "eye_aperture_left": aperture(scheme.lids_left),
        "eye_aperture_right": aperture(scheme.lids_right),
        "mouth_opening": np.einsum("ij,ij->i", points[:, upper] - points[:, lower], up) / iod,
    }


def head_pose(matrix: FloatArray) -> dict[str, float]:
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
