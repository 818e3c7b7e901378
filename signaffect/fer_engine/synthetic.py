"""Synthetic FER test videos made from scikit-image's astronaut photo (a real, smiling face).

Why: tests and the benchmark (bench/bench_fer.py) need videos with a real face, motion, scale
change and frames without a face, and nothing may be downloaded; the astronaut image ships
with scikit-image (a dev dependency), so the videos are generated on the fly instead of
committed. It lives beside the engine it exercises, so bench/ reaches it without importing
tests (bench may import what cli.py may).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

FRAME_SIZE = (640, 480)  # (width, height)


def astronaut_bgr() -> np.ndarray:
    """The 512x512 astronaut photo as a BGR uint8 array (OpenCV's channel order)."""
    from skimage import data  # dev dependency: imported lazily so ingest never needs it

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def default_absent(i: int) -> str | None:
    """Frames 24-29 of every 30 have no face: even ones blank, odd ones noise."""
    if i % 30 >= 24:
        return "blank" if i % 2 == 0 else "noise"
    return None


def render_frame(
    image: np.ndarray,
    i: int,
    size: tuple[int, int] = FRAME_SIZE,
    absent: Callable[[int], str | None] = default_absent,
    rng: np.random.Generator | None = None,
    period: int = 300,
) -> np.ndarray:
    """Frame i: the photo drifting sideways (≤ 9 px a frame) and zooming over `period`
    frames, like a signer's head; or a face-less frame."""
    width, height = size
    kind = absent(i)
    if kind == "blank":
        return np.full((height, width, 3), 96, np.uint8)
    if kind == "noise":
        rng = rng or np.random.default_rng(i)
        return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    t = i / period
    scale = (height / image.shape[0]) * (1.0 + 0.15 * math.sin(2 * math.pi * t))
    # Keep the face (around x=225, y=115 in the photo) inside the frame while it moves.
    cx = width / 2 + 0.12 * width * math.sin(4 * math.pi * t)
    cy = height * 0.35 + 0.03 * height * math.cos(2 * math.pi * t)
    tx, ty = cx - 225 * scale, cy - 115 * scale
    matrix = np.array([[scale, 0.0, tx], [0.0, scale, ty]], dtype=np.float64)
    return cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_AREA, borderValue=(96, 96, 96)
    )


def write_test_video(
    path: Path,
    *,
    n_frames: int = 60,
    size: tuple[int, int] = FRAME_SIZE,
    fps: float = 30.0,
    fourcc: str = "MJPG",
    absent: Callable[[int], str | None] = default_absent,
) -> Path:
    """Write an n-frame test video (MJPG in .avi writes and reads back in every OpenCV wheel)."""
    image = astronaut_bgr()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {fourcc} to {path}")
    rng = np.random.default_rng(0)
    try:
        for i in range(n_frames):
            writer.write(render_frame(image, i, size, absent, rng))
    finally:
        writer.release()
    return path
