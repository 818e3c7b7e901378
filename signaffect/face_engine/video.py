"""The face engine over one video (or a chunk of its frames): the contract's rows.

Why: one row per (frame, face found) plus a face-less row per frame without one keeps every
frame joinable to the corpus frame grid. Faces are in MediaPipe's order here; the stable
face ids are given over the whole video once its chunks are in (track.py). Decoding is
FER's (signaffect/fer_engine/video.py), and `FaceRows.add` is a FrameTap, so a run of both
engines decodes each frame once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from signaffect.face_engine.measures import MEDIAPIPE_478, derived_measures, head_pose
from signaffect.face_engine.model import FaceLandmarker
from signaffect.face_engine.schema import FACE_FRAMES_SCHEMA
from signaffect.fer_engine.video import decoded_frames, frame_metadata, open_video, video_hash

SOURCE = "mediapipe"


@dataclass(frozen=True)
class FaceSettings:
    """How faces are found; `canonical()` is part of the cache key of every stored result."""

    max_faces: int = 4
    min_detection: float = 0.5
    min_presence: float = 0.5

    def __post_init__(self) -> None:
        if self.max_faces < 1:
            raise ValueError("max_faces must be at least 1")
        if not (0 <= self.min_detection <= 1 and 0 <= self.min_presence <= 1):
            raise ValueError("confidences must be in [0, 1]")

    def canonical(self) -> str:
        """Short, stable description, e.g. 'mediapipe-face;image;faces=4;det=0.5;pres=0.5'."""
        return (
            f"mediapipe-face;image;faces={self.max_faces};det={self.min_detection:g};"
            f"pres={self.min_presence:g}"
        )

    def landmarker(self) -> FaceLandmarker:
        return FaceLandmarker(
            max_faces=self.max_faces,
            min_detection=self.min_detection,
            min_presence=self.min_presence,
        )


def _shape_measures(points: np.ndarray) -> dict[str, float | None]:
    """The contract's brow, eye and mouth measures of one face (see measures.py); null
    where they are undefined (eyes that coincide)."""
    measures = derived_measures(points[None, :, 0], points[None, :, 1], MEDIAPIPE_478)
    return {name: float(v[0]) if np.isfinite(v[0]) else None for name, v in measures.items()}


@dataclass
class FaceRows:
    """The rows of the frames seen so far; `add` is a FrameTap."""

    landmarker: FaceLandmarker
    fps: float
    columns: dict[str, list[Any]] = field(
        default_factory=lambda: {name: [] for name in FACE_FRAMES_SCHEMA.names}
    )

    def add(self, frame_index: int, bgr: np.ndarray) -> None:
        """Find the faces of one BGR frame and append their rows (or one face-less row)."""
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        faces = self.landmarker.detect(rgb)
        time_ms = frame_index * 1000.0 / self.fps if self.fps > 0 else None
        if not faces:
            self._append({"video_frame": frame_index, "time_ms": time_ms, "face_found": False})
        for index, face in enumerate(faces):
            self._append(
                {
                    "video_frame": frame_index,
                    "time_ms": time_ms,
                    "face_id": index,
                    "face_found": True,
                    **_shape_measures(face.points),
                    **head_pose(face.matrix),
                    "scores": face.blendshapes,
                    "landmarks_x": face.points[:, 0].astype(np.float32).tolist(),
                    "landmarks_y": face.points[:, 1].astype(np.float32).tolist(),
                }
            )

    def _append(self, values: dict[str, Any]) -> None:
        for name, column in self.columns.items():
            column.append(values.get(name))

    def table(self, path: Path, content_hash: str, metadata: dict[str, str]) -> pa.Table:
        """The rows as the contract's table; `metadata` (n_frames, fps, ...) on its schema."""
        n_rows = len(self.columns["video_frame"])
        constants = {
            "media_file": path.name,
            "media_hash": content_hash,
            "source": SOURCE,
            "source_file": str(path),
            "model_hash": self.landmarker.hash,
        }
        columns = {**self.columns, **{name: [value] * n_rows for name, value in constants.items()}}
        return pa.table(columns, schema=FACE_FRAMES_SCHEMA.with_metadata(metadata))


def analyse_face_video(
    path: Path | str,
    settings: FaceSettings | None = None,
    *,
    landmarker: FaceLandmarker | None = None,
    content_hash: str | None = None,
    start: int = 0,
    stop: int | None = None,
    progress: Any = None,
) -> pa.Table:
    """Face rows for frames [start, stop) of one video (stop None: to its end), faces in
    MediaPipe's order (face_id is the index in the frame until track_faces). The schema
    metadata holds the frames decoded (n_frames), fps, width and height, as FER's does.
    Raises FerVideoError for unusable videos."""
    path = Path(path)
    content_hash = content_hash or video_hash(path)
    own = landmarker is None
    landmarker = landmarker or (settings or FaceSettings()).landmarker()
    try:
        return _scan(path, landmarker, content_hash, start, stop, progress)
    finally:
        if own:
            landmarker.close()


def _scan(
    path: Path,
    landmarker: FaceLandmarker,
    content_hash: str,
    start: int,
    stop: int | None,
    progress: Any,
) -> pa.Table:
    capture, info = open_video(path)
    rows = FaceRows(landmarker, info.fps)
    total = (stop - start) if stop is not None else max(0, info.n_frames - start)
    task = progress.add_task(path.name, total=total or None) if progress is not None else None
    counter = [0]
    try:
        for index, frame in enumerate(
            decoded_frames(capture, path, info, counter, start, stop), start
        ):
            rows.add(index, frame)
            if task is not None:
                progress.update(task, advance=1)
    finally:
        capture.release()
        if task is not None:
            progress.remove_task(task)
    decoded = counter[0] if stop is None else min(counter[0], stop - start)
    return rows.table(path, content_hash, frame_metadata(path, decoded, info))

