"""Work units: one video, or one chunk of a long video's frames, analysed by any engine.

Why: a unit is the grain of scheduling, retrying and caching. Every engine (in-process,
local processes, Ray) runs the same `analyse_unit`, so their results are the same bits; each
analysis of a unit gives one Parquet shard, so a re-run redoes only the units that have none.
A unit is anything with `parts` and `analyse` (WorkUnit): a FerUnit here, the face engine's
units beside it (one of which decodes a chunk once for both FER and the face).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Generic, Protocol, Self, TypeVar

import pyarrow as pa

from signaffect.fer_engine.detect import HaarDetector
from signaffect.fer_engine.detector_settings import DetectorSettings
from signaffect.fer_engine.model import DEFAULT_BATCH, EmotionClassifier, model_hash
from signaffect.fer_engine.schema import VideoKey
from signaffect.fer_engine.video import FRAME_COUNT_SLACK, FerVideoError, FrameTap, analyse_video

# 100 s of 30-fps video: ~25 s of one core in fast mode, ~10 min in exact mode. Small enough
# to spread one long video over a cluster and to lose little to a retry.
CHUNK_FRAMES = 3000


class Chunk(Protocol):
    """Frames [start, stop) of one video (stop None: to its end)."""

    @property
    def path(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def stop(self) -> int | None: ...


class KeyedUnit(Chunk, Protocol):
    """One analysis of a chunk under one key: the grain of a shard."""

    @property
    def key(self) -> VideoKey: ...


@dataclass
class UnitResult:
    """One analysis' rows for a unit, or the one-line reason it failed."""

    unit: KeyedUnit
    table: pa.Table | None
    error: str | None
    elapsed_s: float


class WorkUnit(Chunk, Protocol):
    """What an engine schedules: its analyses (`parts`), run together by `analyse`."""

    @property
    def parts(self) -> tuple[KeyedUnit, ...]: ...

    def analyse(self, *, threads: int | None = 1, progress: Any = None) -> list[UnitResult]:
        """One result per part; an unusable video is a result with an error, anything else
        raises (so an engine can retry the unit)."""
        ...


Settings = TypeVar("Settings")


@dataclass(frozen=True)
class VideoSpan(Generic[Settings]):
    """Frames [start, stop) of one video (stop None: to its end) under one analysis key, with
    the engine's settings: the fields every engine's single unit shares (it is its one part)."""

    path: str
    key: VideoKey
    settings: Settings
    start: int = 0
    stop: int | None = None

    @property
    def parts(self) -> tuple[Self]:
        return (self,)


@dataclass(frozen=True)
class FerUnit(VideoSpan[DetectorSettings]):
    """FER over a span of one video, `batch_size` faces per classifier call."""

    batch_size: int = DEFAULT_BATCH

    def analyse(
        self, *, threads: int | None = 1, progress: Any = None, tap: FrameTap | None = None
    ) -> list[UnitResult]:
        """FER over the unit's frames (`threads` 1: this worker's one core; None: threads
        over all cores); `tap` sees each frame too (see FrameTap)."""
        started = time.perf_counter()
        classifier, detector = (
            worker_models(self.batch_size) if threads == 1 else process_models(self.batch_size)
        )
        if model_hash(classifier.path) != self.key.model_hash:
            raise RuntimeError(
                f"this worker's emotion model differs from the driver's ({self.path})"
            )
        try:
            table = analyse_video(
                self.path,
                mode=self.settings.mode,
                fast_scale=self.settings.fast_scale,
                redetect_every=self.settings.redetect_every,
                rescan_every=self.settings.rescan_every,
                batch_size=self.batch_size,
                workers=threads,
                classifier=classifier,
                detector=detector,
                content_hash=self.key.video_hash,
                start=self.start,
                stop=self.stop,
                progress=progress,
                tap=tap,
            )
        except FerVideoError as exc:
            return [UnitResult(self, None, str(exc), time.perf_counter() - started)]
        return [UnitResult(self, table, None, time.perf_counter() - started)]


def chunk_bounds(
    n_frames: int, period: int = 1, chunk_frames: int = CHUNK_FRAMES
) -> list[tuple[int, int | None]]:
    """[start, stop) of each chunk of a video of `n_frames` (its header's count; 0 if
    unknown), starts on multiples of `period` (where an analysis keeps no memory of earlier
    frames, so chunked results equal whole-video ones); the last chunk runs to the end of
    the video, whatever the header said."""
    size = max(period, -(-chunk_frames // period) * period)
    starts = list(range(0, max(1, n_frames - FRAME_COUNT_SLACK), size))
    stops: list[int | None] = [*starts[1:], None]
    return list(zip(starts, stops, strict=True))


def plan_units(
    path: Path | str,
    key: VideoKey,
    settings: DetectorSettings,
    n_frames: int,
    chunk_frames: int = CHUNK_FRAMES,
    batch_size: int = DEFAULT_BATCH,
) -> list[FerUnit]:
    """A video's FER units, chunked on the settings' restart period (see chunk_bounds)."""
    return [
        FerUnit(str(path), key, settings, start, stop, batch_size)
        for start, stop in chunk_bounds(n_frames, settings.restart_period, chunk_frames)
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


@cache
def process_models(batch_size: int = DEFAULT_BATCH) -> tuple[EmotionClassifier, HaarDetector]:
    """The classifier and detector of a run in this one process, on all its cores."""
    return EmotionClassifier(batch_size=batch_size), HaarDetector()


def analyse_unit(
    unit: WorkUnit, *, threads: int | None = 1, progress: Any = None
) -> list[UnitResult]:
    """Run one unit, whatever its analyses (the function every engine calls); `threads` > 1
    or None works on threads inside this one process."""
    return unit.analyse(threads=threads, progress=progress)
