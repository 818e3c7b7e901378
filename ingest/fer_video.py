"""FER over videos: decode with OpenCV, detect, classify in batches, load into raw.fer_*.

Why: one row per (frame, face) plus a face-less row per frame without a face keeps every
frame joinable to the corpus frame grid; results are keyed by (video_hash, model_hash,
detector_settings), so a re-run skips finished videos and an interrupted run loses at most
the video in progress.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import pyarrow as pa

from ingest.fer_detect import Box, DetectorSettings, HaarDetector, Mode, detect_stream, face_crops
from ingest.fer_model import (
    DEFAULT_BATCH,
    EMOTIONS,
    EmotionClassifier,
    file_sha256,
    model_hash,
    preprocess,
    round_scores,
    top_emotion,
)
from ingest.raw_store import insert_arrow, transaction

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

_DUCKDB_TYPES = {
    pa.string(): "varchar",
    pa.int32(): "integer",
    pa.float64(): "double",
    pa.bool_(): "boolean",
    pa.timestamp("us", tz="UTC"): "timestamptz",
}


class FerVideoError(RuntimeError):
    """A video that cannot be analysed (missing, unreadable, empty or truncated)."""


@dataclass
class FerRunSummary:
    """What run_fer did: counts plus (path, error) for each failed video."""

    processed: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _VideoInfo:
    n_frames: int  # the container's count; decoding is the truth
    fps: float
    width: int
    height: int


def video_hash(path: Path) -> str:
    """sha256 of the file content; FerVideoError when it cannot be read."""
    try:
        return file_sha256(Path(path))
    except OSError as exc:
        raise FerVideoError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _open(path: Path) -> tuple[cv2.VideoCapture, _VideoInfo]:
    if not path.is_file():
        raise FerVideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise FerVideoError(f"{path}: zero-length file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise FerVideoError(f"{path}: OpenCV cannot open it as a video (corrupt or truncated?)")
    info = _VideoInfo(
        n_frames=max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT))),
        fps=float(capture.get(cv2.CAP_PROP_FPS) or 0.0),
        width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
    )
    return capture, info


def _gray_frames(
    capture: cv2.VideoCapture, path: Path, info: _VideoInfo, counter: list[int]
) -> Iterator[np.ndarray]:
    """Decoded frames as gray (fer converts BGR→gray once); raises on empty or short videos."""
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            counter[0] += 1
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    except cv2.error as exc:
        raise FerVideoError(f"{path}: decoding failed at frame {counter[0]}: {exc}") from exc
    if counter[0] == 0:
        raise FerVideoError(f"{path}: no decodable frames")
    if info.n_frames and counter[0] < info.n_frames - FRAME_COUNT_SLACK:
        raise FerVideoError(f"{path}: truncated: decoded {counter[0]} of {info.n_frames} frames")


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
) -> pa.Table:
    """FER rows for one video: one per (frame, face), one face-less row per frame without.

    Exact mode reproduces fer.FER().detect_emotions on every frame; fast mode trades a few
    score points for ~5-10x speed (see fer_detect). `progress` is a rich Progress (or None);
    `classifier`/`detector` are reused across videos by run_fer; `content_hash` skips
    re-hashing when the caller already hashed the file. The table's schema metadata holds
    the video's n_frames, fps, width, height. Raises FerVideoError for unusable videos.
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
    task = None
    if progress is not None:
        task = progress.add_task(path.name, total=info.n_frames or None)

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
            frames = _gray_frames(capture, path, info, decoded)
            stream = detect_stream(frames, settings, detector, pool, workers)
            for frame_index, (gray, boxes) in enumerate(stream):
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
        "n_frames": str(decoded[0]),
        "fps": repr(info.fps),
        "width": str(info.width),
        "height": str(info.height),
    }
    return pa.table(columns, schema=FER_FRAMES_SCHEMA.with_metadata(metadata))


def status_row(
    path: Path,
    settings: DetectorSettings,
    *,
    table: pa.Table | None = None,
    content_hash: str | None = None,
    error: str | None = None,
    elapsed_s: float | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """The raw.fer_videos row for one video: 'ok' with the table's metadata, else 'failed'."""
    meta = (
        {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        if (table is not None)
        else {}
    )
    return {
        "video_file": path.name,
        "video_path": str(path),
        "video_hash": content_hash,
        "model_hash": model or model_hash(),
        "detector_settings": settings.canonical(),
        "mode": settings.mode,
        "n_frames": int(meta["n_frames"]) if meta else None,
        "fps": float(meta["fps"]) if meta else None,
        "width": int(meta["width"]) if meta else None,
        "height": int(meta["height"]) if meta else None,
        "status": "failed" if error else "ok",
        "error": error,
        "elapsed_s": elapsed_s,
        "analysed_at": datetime.now(UTC),
    }


def _create_sql(name: str, schema: pa.Schema) -> str:
    cols = ",\n    ".join(f"{f.name} {_DUCKDB_TYPES[f.type]}" for f in schema)
    return f"create table if not exists raw.{name} (\n    {cols}\n)"


def ensure_fer_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema raw and the two FER tables if they are missing."""
    con.execute("create schema if not exists raw")
    con.execute(_create_sql("fer_frames", FER_FRAMES_SCHEMA))
    con.execute(_create_sql("fer_videos", FER_VIDEOS_SCHEMA))


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


def _is_done(con: duckdb.DuckDBPyConnection, key: tuple[str, str, str]) -> bool:
    row = con.execute(
        "select count(*) from raw.fer_videos where video_hash = ? and model_hash = ?"
        " and detector_settings = ? and status = 'ok'",
        list(key),
    ).fetchone()
    return bool(row and row[0])


def run_fer(
    con: duckdb.DuckDBPyConnection,
    videos: Sequence[Path | str],
    *,
    mode: Mode = "exact",
    fast_scale: float = 0.5,
    redetect_every: int = 5,
    batch_size: int = DEFAULT_BATCH,
    workers: int | None = None,
    rescan_every: int = 30,
    progress: Any = None,
    force: bool = False,
) -> FerRunSummary:
    """Analyse videos not yet done under these settings, committing each video on its own.

    Unusable videos get a 'failed' row in raw.fer_videos and the run goes on; any other
    exception (a bug, Ctrl-C) stops the run with earlier videos already committed.
    """
    settings = DetectorSettings(mode, fast_scale, redetect_every, rescan_every)
    ensure_fer_tables(con)
    classifier = EmotionClassifier(batch_size=batch_size)
    detector = HaarDetector()
    model = model_hash(classifier.path)
    summary = FerRunSummary()
    overall = progress.add_task("videos", total=len(videos)) if progress is not None else None
    for raw_path in videos:
        path = Path(raw_path)
        started = time.perf_counter()
        digest: str | None = None
        try:
            digest = video_hash(path)
            if not force and _is_done(con, (digest, model, settings.canonical())):
                summary.skipped += 1
            else:
                table = analyse_video(
                    path,
                    mode=mode,
                    fast_scale=fast_scale,
                    redetect_every=redetect_every,
                    batch_size=batch_size,
                    progress=progress,
                    workers=workers,
                    rescan_every=rescan_every,
                    classifier=classifier,
                    detector=detector,
                    content_hash=digest,
                )
                row = status_row(
                    path,
                    settings,
                    table=table,
                    content_hash=digest,
                    elapsed_s=time.perf_counter() - started,
                    model=model,
                )
                load_fer_results(con, table, [row])
                summary.processed += 1
        except FerVideoError as exc:
            row = status_row(
                path,
                settings,
                content_hash=digest,
                error=str(exc),
                elapsed_s=time.perf_counter() - started,
                model=model,
            )
            load_fer_results(con, None, [row])
            summary.failed += 1
            summary.failures.append((str(path), str(exc)))
        if overall is not None:
            progress.update(overall, advance=1)
    if overall is not None:
        progress.remove_task(overall)
    return summary
