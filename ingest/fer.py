"""FER over one video (or a chunk of its frames): decode with OpenCV, detect, classify in
batches; and the raw.fer_* tables the results load into.

Why: one row per (frame, face) plus a face-less row per frame without a face keeps every
frame joinable to the corpus frame grid; results are keyed by (video_hash, model_hash,
detector_settings), so a re-run skips finished work (signaffect/pipeline/fer.py plans and loads it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import cv2
import numpy as np
import pyarrow as pa

from ingest.raw_store import RAW_SCHEMA
from signaffect.core.arrow_tables import ensure_table, insert_arrow, transaction
from signaffect.core.hashing import sha256_file
from signaffect.fer_engine.detect import (
    Box,
    DetectorSettings,
    HaarDetector,
    Mode,
    detect_stream,
    face_crops,
)
from signaffect.fer_engine.model import (
    DEFAULT_BATCH,
    EMOTIONS,
    EmotionClassifier,
    model_hash,
    preprocess,
    round_scores,
    top_emotion,
)

if TYPE_CHECKING:  # duckdb is imported by the caller; analysis alone stays ~20 MB lighter
    import duckdb

FRAME_COUNT_SLACK = 1  # decoded frames may fall short of the header's count by this much

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

FER_VIDEOS_SCHEMA = pa.schema(
    [
        ("video_file", pa.string()),
        ("video_path", pa.string()),
        ("video_hash", pa.string()),
        ("model_hash", pa.string()),
        ("detector_settings", pa.string()),
        ("mode", pa.string()),
        ("n_frames", pa.int32()),
        ("fps", pa.float64()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("elapsed_s", pa.float64()),
        ("analysed_at", pa.timestamp("us", tz="UTC")),
    ]
)

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


class VideoKey(NamedTuple):
    """The cache key of stored results; video_hash is None for a file that cannot be read."""

    video_hash: str | None
    model_hash: str
    detector_settings: str


def probe_video(path: Path) -> VideoInfo:
    """The container's frame count, rate and size; FerVideoError when it cannot be opened."""
    capture, info = _open(Path(path))
    capture.release()
    return info


def _open(path: Path) -> tuple[cv2.VideoCapture, VideoInfo]:
    if not path.is_file():
        raise FerVideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise FerVideoError(f"{path}: zero-length file")
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


def _gray_frames(
    capture: cv2.VideoCapture,
    path: Path,
    info: VideoInfo,
    counter: list[int],
    start: int = 0,
    stop: int | None = None,
    overlap: int = 0,
) -> Iterator[np.ndarray]:
    """Decoded frames start..stop-1 as gray (fer converts BGR→gray once), plus up to
    `overlap` frames past stop when the video has them; raises on empty or short videos."""
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
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
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
) -> pa.Table:
    """FER rows for one video: one per (frame, face), one face-less row per frame without.

    Exact mode reproduces fer.FER().detect_emotions on every frame; fast mode trades a few
    score points for ~5-10x speed (see fer_detect). `progress` is a rich Progress (or None);
    `classifier`/`detector` are reused across videos by a worker; `content_hash` skips
    re-hashing when the caller already hashed the file. `start`/`stop` analyse frames
    [start, stop) only (stop None: to the end), with the whole video's frame numbers and
    results when start is a multiple of the settings' restart_period. The table's schema
    metadata holds the frames decoded (n_frames), fps, width, height. Raises FerVideoError
    for unusable videos.
    """
    path = Path(path)
    settings = DetectorSettings(mode, fast_scale, redetect_every, rescan_every)
    content_hash = content_hash or video_hash(path)
    capture, info = _open(path)
    classifier = classifier or EmotionClassifier(batch_size=batch_size)
    detector = detector or HaarDetector()
    workers = workers or len(os.sched_getaffinity(0))
    columns: dict[str, list[Any]] = {name: [] for name in FER_FRAMES_SCHEMA.names}
    constants = {
        "video_file": path.name,
        "video_hash": content_hash,
        "mode": mode,
        "model_hash": model_hash(classifier.path),
        "detector_settings": settings.canonical(),
    }
    seconds_per_frame = 1000.0 / info.fps if info.fps > 0 else None
    # Fast mode tracks faces from keyframe to keyframe: a chunk decodes the next chunk's
    # first frame (a keyframe) to close its last segment as the whole video would.
    overlap = 1 if stop is not None and mode == "fast" else 0
    total = (stop - start) if stop is not None else max(0, info.n_frames - start)
    task = None
    if progress is not None:
        task = progress.add_task(path.name, total=total or None)

    pending: list[tuple[int, list[Box]]] = []  # frames waiting for their faces' scores
    crops: list[np.ndarray] = []

    def append(frame_index: int, face_index: int | None, box: Box | None, scores: list) -> None:
        values = {
            "frame_index": frame_index,
            "time_ms": frame_index * seconds_per_frame if seconds_per_frame else None,
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
            columns[name].append(value)

    def flush() -> None:
        """Classify the pending faces in batches and emit the pending frames' rows in order."""
        scores = (
            iter(round_scores(classifier.predict(preprocess(np.stack(crops))))) if crops else None
        )
        for frame_index, boxes in pending:
            if not boxes:
                append(frame_index, None, None, [None] * len(EMOTIONS))
            for face_index, box in enumerate(boxes):
                append(frame_index, face_index, box, next(scores))  # type: ignore[arg-type]
        pending.clear()
        crops.clear()

    decoded = [0]
    saved_threads = cv2.getNumThreads()
    try:
        if workers > 1:
            cv2.setNumThreads(1)  # parallelise across frames, not inside each detection
        with ThreadPoolExecutor(max_workers=workers) as pool:
            frames = _gray_frames(capture, path, info, decoded, start, stop, overlap)
            stream = detect_stream(frames, settings, detector, pool, workers)
            for frame_index, (gray, boxes) in enumerate(stream, start):
                if stop is not None and frame_index >= stop:
                    continue  # the overlap frame: the next chunk's rows
                kept, face_images = face_crops(gray, boxes)
                pending.append((frame_index, kept))
                crops.extend(face_images)
                if len(crops) >= batch_size:
                    flush()
                if task is not None:
                    progress.update(task, advance=1)
            flush()
    finally:
        cv2.setNumThreads(saved_threads)
        capture.release()
        if task is not None:
            progress.remove_task(task)

    n_rows = len(columns["frame_index"])
    for name, value in constants.items():
        columns[name] = [value] * n_rows
    metadata = {
        "video_path": str(path),
        "n_frames": str(decoded[0] if stop is None else min(decoded[0], stop - start)),
        "fps": repr(info.fps),
        "width": str(info.width),
        "height": str(info.height),
    }
    return pa.table(columns, schema=FER_FRAMES_SCHEMA.with_metadata(metadata))


def status_row(
    path: Path | str,
    key: VideoKey,
    mode: str,
    *,
    table: pa.Table | None = None,
    error: str | None = None,
    elapsed_s: float | None = None,
) -> dict[str, Any]:
    """The raw.fer_videos row for one video: 'ok' with the table's metadata, else 'failed'."""
    meta = (
        {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        if table is not None
        else {}
    )
    path = Path(path)
    return {
        "video_file": path.name,
        "video_path": str(path),
        "video_hash": key.video_hash,
        "model_hash": key.model_hash,
        "detector_settings": key.detector_settings,
        "mode": mode,
        "n_frames": int(meta["n_frames"]) if meta else None,
        "fps": float(meta["fps"]) if meta else None,
        "width": int(meta["width"]) if meta else None,
        "height": int(meta["height"]) if meta else None,
        "status": "failed" if error else "ok",
        "error": error,
        "elapsed_s": elapsed_s,
        "analysed_at": datetime.now(UTC),
    }


def ensure_fer_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema raw and the two FER tables if they are missing."""
    ensure_table(con, RAW_SCHEMA, "fer_frames", FER_FRAMES_SCHEMA)
    ensure_table(con, RAW_SCHEMA, "fer_videos", FER_VIDEOS_SCHEMA)


def corpus_media_names(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    """File names of the ingested corpus's media files in camera view `view`, sorted.

    Name and view come from the LEGACY-PATH exactly as stg_signstream__media_files derives
    them (last `:` component; master / slaveN in the path, else unknown), so the videos
    chosen here are the ones fct_fer_frames links to the corpus.
    """
    exists = con.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'raw' and table_name = 'signstream_media_files'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    rows = con.execute(
        """
        select distinct regexp_extract(legacy_path, '[^:]*$') as media_file_name
        from raw.signstream_media_files
        where coalesce(
            nullif(regexp_extract(lower(legacy_path), '(master|slave[0-9]+)', 1), ''),
            'unknown'
        ) = ?
        order by media_file_name
        """,
        [view],
    ).fetchall()
    return [name for (name,) in rows if name]


def match_corpus_videos(
    con: duckdb.DuckDBPyConnection, folder: Path, view: str
) -> tuple[list[Path], list[str]]:
    """The files directly in `folder` named like a corpus media file of `view`, and the
    media file names of that view with no such file (matching is by exact file name)."""
    on_disk = {path.name: path for path in Path(folder).iterdir() if path.is_file()}
    names = corpus_media_names(con, view)
    return [on_disk[n] for n in names if n in on_disk], [n for n in names if n not in on_disk]


def load_fer_results(
    con: duckdb.DuckDBPyConnection,
    table: pa.Table | None,
    status_rows: Sequence[dict[str, Any]],
) -> None:
    """Replace the rows of each (video_hash, model_hash, detector_settings) in one transaction.

    A video without a hash (missing file) is keyed by its path instead.
    """
    ensure_fer_tables(con)
    videos = pa.Table.from_pylist(list(status_rows), schema=FER_VIDEOS_SCHEMA)
    frames = table if table is not None else FER_FRAMES_SCHEMA.empty_table()
    keys = {
        (r["video_hash"], r["model_hash"], r["detector_settings"], r["video_path"])
        for r in videos.to_pylist()
    }
    keys |= {
        (r["video_hash"], r["model_hash"], r["detector_settings"], None)
        for r in frames.select(["video_hash", "model_hash", "detector_settings"])
        .group_by(["video_hash", "model_hash", "detector_settings"])
        .aggregate([])
        .to_pylist()
    }
    with transaction(con):
        for digest, model, settings, video_path in keys:
            if digest is None:
                con.execute(
                    "delete from raw.fer_videos where video_hash is null and video_path = ?"
                    " and model_hash = ? and detector_settings = ?",
                    [video_path, model, settings],
                )
                continue
            for name in ("fer_frames", "fer_videos"):
                con.execute(
                    f"delete from raw.{name} where video_hash = ? and model_hash = ?"
                    " and detector_settings = ?",
                    [digest, model, settings],
                )
        insert_arrow(con, "raw.fer_frames", frames)
        insert_arrow(con, "raw.fer_videos", videos)
