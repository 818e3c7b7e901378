"""A synthetic face video with known brow raises and head rolls, made from scikit-image's
astronaut photo (a real face), for the face engine's validation.

Why: no real signing video may ship, and nothing may be downloaded; warping the photo's brow
region upwards on chosen frames and rotating the photo about the face on others gives frames
whose truth is known (raised or not, roll angle). A flat photo cannot turn its head, so yaw
and pitch are not simulated here: an in-plane rotation is a true head roll.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from signaffect.fer_engine.synthetic import astronaut_bgr

FRAME_SIZE = (640, 480)  # (width, height)
FACE = (225.0, 115.0)  # the face's centre in the photo (between the eyes and the mouth)
BROW_Y = 89.0  # the brows' upper edge in the photo (rows)
SCALE = 2.2  # photo pixels to frame pixels: an inter-ocular distance of ~90 px
RAISE_PX = 4.0  # photo pixels the brows move up on a raised frame (~0.1 inter-ocular)


@dataclass(frozen=True)
class Truth:
    """What each frame shows: a face or not, brows raised or not, the roll applied."""

    face: list[bool]
    raised: list[bool]
    roll_deg: list[float | None]


def raise_brows(image: np.ndarray, pixels: float) -> np.ndarray:
    """The photo with its brow band moved up by `pixels`, fading out above and below (the
    eyes and the forehead's top stay put), as the frontalis muscle does."""
    height, width = image.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    band = np.exp(-(((yy - BROW_Y) / 7.0) ** 2) / 2)
    across = np.clip((1 - np.abs(xx - FACE[0]) / 55.0) * 2, 0, 1)
    return cv2.remap(image, xx, yy + pixels * band * across, cv2.INTER_LINEAR)


def place(image: np.ndarray, roll_deg: float, jitter: tuple[float, float]) -> np.ndarray:
    """The photo scaled into the frame with the face near its centre, rolled by `roll_deg`
    (positive: the head tilts to the image's right, the contract's sign)."""
    width, height = FRAME_SIZE
    # OpenCV's angle turns the image counter-clockwise: the contract's roll is its negative.
    matrix = cv2.getRotationMatrix2D(FACE, -roll_deg, SCALE)
    shift = np.array([width / 2 - FACE[0] + jitter[0], height * 0.45 - FACE[1] + jitter[1]])
    matrix[:, 2] += shift
    return cv2.warpAffine(image, matrix, FRAME_SIZE, flags=cv2.INTER_LINEAR,
                          borderValue=(96, 96, 96))


def schedule(n_expression: int = 32, rolls: tuple[float, ...] = (-20, -10, 10, 20),
             per_roll: int = 3, n_empty: int = 3) -> Truth:
    """Expression frames (raised in blocks of 4), then each roll for `per_roll` frames, then
    frames with no face."""
    raised = [(i // 4) % 2 == 1 for i in range(n_expression)]
    roll: list[float | None] = [0.0] * n_expression
    for angle in rolls:
        raised += [False] * per_roll
        roll += [float(angle)] * per_roll
    raised += [False] * n_empty
    roll += [None] * n_empty
    return Truth([r is not None for r in roll], raised, roll)


def write_face_video(path: Path, truth: Truth, fps: float = 30.0) -> Path:
    """Write the schedule's frames as an MJPG .avi (writes and reads back in every wheel)."""
    photo = astronaut_bgr()
    raised = raise_brows(photo, RAISE_PX)
    rng = np.random.default_rng(7)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, FRAME_SIZE)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write MJPG to {path}")
    try:
        for face, up, roll in zip(truth.face, truth.raised, truth.roll_deg, strict=True):
            if not face or roll is None:
                frame = np.full((FRAME_SIZE[1], FRAME_SIZE[0], 3), 96, np.uint8)
            else:
                jitter = (float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)))
                frame = place(raised if up else photo, roll, jitter)
            writer.write(frame)
    finally:
        writer.release()
    return path
