"""FER work units: one video, or one chunk of a long video's frames, analysed by any engine.

Why: a unit is the grain of scheduling, retrying and caching. Every engine (in-process,
local processes, Ray) runs the same `analyse_unit`, so their results are the same bits; a
unit's result is one Parquet shard, so a re-run redoes only the units that have none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from signaffect.fer_engine.detect import DetectorSettings, HaarDetector
from signaffect.fer_engine.model import DEFAULT_BATCH, EmotionClassifier, model_hash
from signaffect.fer_engine.schema import VideoKey
from signaffect.fer_engine.video import FRAME_COUNT_SLACK, FerVideoError, analyse_video

# 100 s of 30-fps video: ~25 s of one core in fast mode, ~10 min in exact mode. Small enough
# to spread one long video over a cluster and to lose little to a retry.
CHUNK_FRAMES = 3000


@dataclass(frozen=True)
class FerUnit:
    """Frames [start, stop) of one video (stop None: to its end) under one analysis key."""

    path: str
    key: VideoKey
    settings: DetectorSettings
    start: int = 0
    stop: int | None = None
    batch_size: int = DEFAULT_BATCH


@dataclass
class UnitResult:
    """A unit's rows, or the one-line reason it failed."""

    unit: FerUnit
    table: pa.Table | None
    error: str | None
    elapsed_s: float


def plan_units(
    path: Path | str,
    key: VideoKey,
    settings: DetectorSettings,
    n_frames: int,
    chunk_frames: int = CHUNK_FRAMES,
    batch_size: int = DEFAULT_BATCH,
) -> list[FerUnit]:
    """Split a video of `n_frames` (its header's count; 0 if unknown) into chunks that start
    on multiples of the settings' restart period, so chunked results equal whole-video ones.
    The last chunk runs to the end of the video, whatever the header said."""
    period = settings.restart_period
    size = max(period, -(-chunk_frames // period) * period)
    starts = list(range(0, max(1, n_frames - FRAME_COUNT_SLACK), size))
    stops: list[int | None] = [*starts[1:], None]
    return [
        FerUnit(str(path), key, settings, start, stop, batch_size)
        for start, stop in zip(starts, stops, strict=True)
    ]


@cache
def worker_models(batch_size: int = DEFAULT_BATCH) -> tuple[EmotionClassifier, HaarDetector]:
    """The classifier and detector of a worker process, loaded once and reused by its units.

    A worker is one core: OpenCV and LiteRT stay single-threaded, which also keeps the order
    of faces found in a frame the same from run to run.
    """
    import cv2

    cv2.setNumThreads(1)
    return EmotionClassifier(batch_size=batch_size, num_threads=1), HaarDetector()


def analyse_unit(
    unit: FerUnit,
    *,
    threads: int | None = 1,
    models: tuple[EmotionClassifier, HaarDetector] | None = None,
    progress: Any = None,
) -> UnitResult:
    """Run one unit; an unusable video is a result with an error, anything else raises (so
    an engine can retry it). `threads` > 1 detects on threads inside this one process."""
    started = time.perf_counter()
    classifier, detector = models or worker_models(unit.batch_size)
    if model_hash(classifier.path) != unit.key.model_hash:
        raise RuntimeError(f"this worker's emotion model differs from the driver's ({unit.path})")
    try:
        table = analyse_video(
            unit.path,
            mode=unit.settings.mode,
            fast_scale=unit.settings.fast_scale,
            redetect_every=unit.settings.redetect_every,
            rescan_every=unit.settings.rescan_every,
            batch_size=unit.batch_size,
            workers=threads,
            classifier=classifier,
            detector=detector,
            content_hash=unit.key.video_hash,
            start=unit.start,
            stop=unit.stop,
            progress=progress,
        )
    except FerVideoError as exc:
        return UnitResult(unit, None, str(exc), time.perf_counter() - started)
    return UnitResult(unit, table, None, time.perf_counter() - started)
