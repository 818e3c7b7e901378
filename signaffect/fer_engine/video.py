"""FER over one video (or a chunk of its frames): decode with OpenCV, detect, classify in
batches, as one Arrow table.

Why: one row per (frame, face) plus a face-less row per frame without a face keeps every
frame joinable to the corpus frame grid; results are keyed by (video_hash, model_hash,
detector_settings), so a re-run skips finished work (ingest/fer.py loads them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from signaffect.core.hashing import sha256_file
from signaffect.fer_engine.detect import (
    Box,
    HaarDetector,
    detect_stream,
    face_crops,
)
from signaffect.fer_engine.detector_settings import DetectorSettings, Mode
from signaffect.fer_engine.model import (
    DEFAULT_BATCH,
    EmotionClassifier,
    model_hash,
    preprocess,
    round_scores,
    top_emotion,
)
from signaffect.fer_engine.schema import EMOTIONS, FER_FRAMES_SCHEMA

if TYPE_CHECKING:  # OpenCV loads when a video is opened, not with the FER tables
    import cv2

FRAME_COUNT_SLACK = 1  # decoded frames may fall short of the header's count by this much

#: Called with (frame_index, BGR frame) for each frame a unit analyses, in order: another
#: engine (the face engine) analysing the frames FER decodes, so a video is decoded once.
FrameTap = Callable[[int, np.ndarray], None]


class FerVideoError(RuntimeError):
    """A video that cannot be analysed (missing, unreadable, empty or truncated)."""


@dataclass(frozen=True)
class VideoInfo:
    n_frames: int  # the container's count; decoding is the truth
    fps: float
    width: int
    height: int


def video_hash(path: Path) -> str:
    """sha256 of the file content; FerVideoError when it cannot be read."""
    try:
        return sha256_file(Path(path))
    except OSError as exc:
        raise FerVideoError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def probe_video(path: Path) -> VideoInfo:
    """The container's frame count, rate and size; FerVideoError when it cannot be opened."""
    capture, info = open_video(Path(path))
    capture.release()
    return info


def open_video(path: Path) -> tuple[cv2.VideoCapture, VideoInfo]:
    if not path.is_file():
        raise FerVideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise FerVideoError(f"{path}: zero-length file")
    import cv2

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise FerVideoError(f"{path}: OpenCV cannot open it as a video (corrupt or truncated?)")
    info = VideoInfo(
        n_frames=max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT))),
        fps=float(capture.get(cv2.CAP_PROP_FPS) or 0.0),
        width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
    )
    return capture, info


def decoded_frames(
    capture: cv2.VideoCapture,
    path: Path,
    info: VideoInfo,
    counter: list[int],
    start: int = 0,
    stop: int | None = None,
    overlap: int = 0,
) -> Iterator[np.ndarray]:
    """Decoded BGR frames start..stop-1, plus up to `overlap` frames past stop when the video
    has them, counted in `counter[0]`; raises FerVideoError on empty or short videos."""
    import cv2

    for index in range(start):
        if not capture.grab():  # decode-and-skip: seeking is not frame-exact in every codec
            raise FerVideoError(f"{path}: truncated: ends at frame {index}, before frame {start}")
    end = None if stop is None else stop + overlap
    try:
        while end is None or start + counter[0] < end:
            ok, frame = capture.read()
            if not ok:
                break
            counter[0] += 1
            yield frame
    except cv2.error as exc:
        failed_at = start + counter[0]
        raise FerVideoError(f"{path}: decoding failed at frame {failed_at}: {exc}") from exc
    if counter[0] == 0:
        where = f" from frame {start}" if start else ""
        raise FerVideoError(f"{path}: no decodable frames{where}")
    last = start + counter[0]
    if stop is not None and last < stop:
        raise FerVideoError(f"{path}: truncated: decoded up to frame {last} of {stop}")
    if stop is None and info.n_frames and last < info.n_frames - FRAME_COUNT_SLACK:
        raise FerVideoError(f"{path}: truncated: decoded {last} of {info.n_frames} frames")


@dataclass
class _Rows:
    """The columns built so far, and the frames waiting for their faces' scores (classified
    in batches of `batch_size` faces, emitted in frame order)."""

    classifier: EmotionClassifier
    batch_size: int
    seconds_per_frame: float | None
    columns: dict[str, list[Any]] = field(
        default_factory=lambda: {name: [] for name in FER_FRAMES_SCHEMA.names}
    )
    pending: list[tuple[int, list[Box]]] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)

    def add_frame(self, frame_index: int, boxes: list[Box], faces: list[np.ndarray]) -> None:
        self.pending.append((frame_index, boxes))
        self.crops.extend(faces)
        if len(self.crops) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Classify the pending faces in batches and emit the pending frames' rows in order."""
        scores = (
            iter(round_scores(self.classifier.predict(preprocess(np.stack(self.crops)))))
            if self.crops
            else None
        )
        for frame_index, boxes in self.pending:
            if not boxes:
                self._append(frame_index, None, None, [None] * len(EMOTIONS))
            for face_index, box in enumerate(boxes):
                self._append(frame_index, face_index, box, next(scores))  # type: ignore[arg-type]
        self.pending.clear()
        self.crops.clear()

    def _append(
        self, frame_index: int, face_index: int | None, box: Box | None, scores: list
    ) -> None:
        values = {
            "frame_index": frame_index,
            "time_ms": frame_index * self.seconds_per_frame if self.seconds_per_frame else None,
            "face_index": face_index,
            "box_x": box[0] if box else None,
            "box_y": box[1] if box else None,
            "box_w": box[2] if box else None,
            "box_h": box[3] if box else None,
            "top_emotion": top_emotion(scores) if box else None,
            "has_face": box is not None,
            **dict(zip(EMOTIONS, scores, strict=True)),
        }
        for name, value in values.items():
            self.columns[name].append(value)


def analyse_video(
    path: Path | str,
    *,
    mode: Mode = "exact",
    fast_scale: float = 0.5,
    redetect_every: int = 5,
    batch_size: int = DEFAULT_BATCH,
    progress: Any = None,
    workers: int | None = None,
    rescan_every: int = 30,
    classifier: EmotionClassifier | None = None,
    detector: HaarDetector | None = None,
    content_hash: str | None = None,
    start: int = 0,
    stop: int | None = None,
    tap: FrameTap | None = None,
) -> pa.Table:
    """FER rows for one video: one per (frame, face), one face-less row per frame without.

    Exact mode reproduces fer.FER().detect_emotions on every frame; fast mode trades a few
    score points for ~5-10x speed (see fer_detect). `progress` is a rich Progress (or None);
    `classifier`/`detector` are reused across videos by a worker; `content_hash` skips
    re-hashing when the caller already hashed the file. `start`/`stop` analyse frames
    [start, stop) only (stop None: to the end), with the whole video's frame numbers and
    results when start is a multiple of the settings' restart_period; `tap` sees each of
    those frames in colour. The table's schema metadata holds the frames decoded (n_frames),
    fps, width, height. Raises FerVideoError for unusable videos.
    """
    path = Path(path)
    settings = DetectorSettings(mode, fast_scale, redetect_every, rescan_every)
    content_hash = content_hash or video_hash(path)
    capture, info = open_video(path)
    classifier = classifier or EmotionClassifier(batch_size=batch_size)
    rows = _Rows(classifier, batch_size, 1000.0 / info.fps if info.fps > 0 else None)
    frames = _Frames(capture, path, info, start, stop, tap)
    decoded = _scan(frames, settings, rows, detector or HaarDetector(),
                    workers or len(os.sched_getaffinity(0)), progress)
    constants = {
        "video_file": path.name,
        "video_hash": content_hash,
        "mode": mode,
        "model_hash": model_hash(classifier.path),
        "detector_settings": settings.canonical(),
    }
    n_rows = len(rows.columns["frame_index"])
    columns = {**rows.columns, **{name: [value] * n_rows for name, value in constants.items()}}
    metadata = frame_metadata(path, decoded if stop is None else min(decoded, stop - start), info)
    return pa.table(columns, schema=FER_FRAMES_SCHEMA.with_metadata(metadata))


def frame_metadata(path: Path, n_frames: int, info: VideoInfo) -> dict[str, str]:
    """A chunk table's schema metadata: the frames it decoded and the video's rate and size
    (shards keep it; the drivers' status rows read it)."""
    return {
        "video_path": str(path),
        "n_frames": str(n_frames),
        "fps": repr(info.fps),
        "width": str(info.width),
        "height": str(info.height),
    }


@dataclass(frozen=True)
class _Frames:
    """Where to decode: frames [start, stop) of an opened video (stop None: to its end)."""

    capture: cv2.VideoCapture
    path: Path
    info: VideoInfo
    start: int
    stop: int | None
    tap: FrameTap | None = None

    def grays(self, counter: list[int], overlap: int) -> Iterator[np.ndarray]:
        """The frames in gray (fer converts BGR→gray once), each first shown to the tap
        (the overlap frame past stop belongs to the next chunk: not shown)."""
        import cv2

        colour = decoded_frames(self.capture, self.path, self.info, counter, self.start,
                                self.stop, overlap)
        for index, frame in enumerate(colour, self.start):
            if self.tap is not None and (self.stop is None or index < self.stop):
                self.tap(index, frame)
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _scan(
    frames: _Frames,
    settings: DetectorSettings,
    rows: _Rows,
    detector: HaarDetector,
    workers: int,
    progress: Any,
) -> int:
    """Decode, detect and classify the frames into `rows` on `workers` threads; releases the
    capture and returns how many frames were decoded."""
    start, stop = frames.start, frames.stop
    # Fast mode tracks faces from keyframe to keyframe: a chunk decodes the next chunk's
    # first frame (a keyframe) to close its last segment as the whole video would.
    overlap = 1 if stop is not None and settings.mode == "fast" else 0
    total = (stop - start) if stop is not None else max(0, frames.info.n_frames - start)
    task = None
    if progress is not None:
        task = progress.add_task(frames.path.name, total=total or None)
    decoded = [0]
    import cv2

    saved_threads = cv2.getNumThreads()
    try:
        if workers > 1:
            cv2.setNumThreads(1)  # parallelise across frames, not inside each detection
        with ThreadPoolExecutor(max_workers=workers) as pool:
            grays = frames.grays(decoded, overlap)
            stream = detect_stream(grays, settings, detector, pool, workers)
            for frame_index, (gray, boxes) in enumerate(stream, start):
                if stop is not None and frame_index >= stop:
                    continue  # the overlap frame: the next chunk's rows
                rows.add_frame(frame_index, *face_crops(gray, boxes))
                if task is not None:
                    progress.update(task, advance=1)
            rows.flush()
    finally:
        cv2.setNumThreads(saved_threads)
        frames.capture.release()
        if task is not None:
            progress.remove_task(task)
    return decoded[0]
