"""The contract of the FER engine's results: raw.fer_frames' columns, the emotions, and the
key a video's results are stored under.

Why here and alone: `ingest/fer.py` loads these results into the warehouse and must not load
the engine to learn their shape (the video decoder brings OpenCV, the model LiteRT); the
face engine's contract stands the same way in `signaffect/face_engine/schema.py`.
"""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa

#: fer.FER._get_labels(): the model's output index → label.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

FER_FRAMES_SCHEMA = pa.schema(
    [
        ("video_file", pa.string()),
        ("video_hash", pa.string()),
        ("frame_index", pa.int32()),
        ("time_ms", pa.float64()),
        ("face_index", pa.int32()),
        ("box_x", pa.int32()),
        ("box_y", pa.int32()),
        ("box_w", pa.int32()),
        ("box_h", pa.int32()),
        *[(emotion, pa.float64()) for emotion in EMOTIONS],
        ("top_emotion", pa.string()),
        ("has_face", pa.bool_()),
        ("mode", pa.string()),
        ("model_hash", pa.string()),
        ("detector_settings", pa.string()),
    ]
)


class VideoKey(NamedTuple):
    """The cache key of stored results; video_hash is None for a file that cannot be read."""

    video_hash: str | None
    model_hash: str
    detector_settings: str


class UnusableVideoError(ValueError):
    """A video whose results a loader refuses once all its frames are in (e.g. the face
    engine found no face in any frame): the run records it as failed, with this message,
    and loads nothing of it."""
