"""Drive a run of video engines (FER, the face engine, or both): plan work units, skip
finished ones, hand the rest to an engine, write each result as a shard and load each
finished video into the warehouse.

Why: this is the one process that touches the warehouse; engines only compute. Each video
commits on its own as soon as its last unit is in, so an interrupted run keeps every video
already loaded and every shard already written, and a re-run picks up from there. Each
engine is an `Analysis` (its key, units and tables); when several run, the units covering the
same frames of a video are combined into one (`combine`), so the video is decoded once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signaffect.fer_engine.engines import Engine, LocalEngine
from signaffect.fer_engine.schema import UnusableVideoError, VideoKey
from signaffect.fer_engine.shards import is_done, write_shard
from signaffect.fer_engine.units import CHUNK_FRAMES, KeyedUnit, WorkUnit, chunk_bounds
from signaffect.fer_engine.video import FerVideoError, probe_video, video_hash

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Analysis:
    """One engine's share of a run: how its results are keyed, chunked, made and stored."""

    name: str
    shard_root: Path
    model_hash: str
    settings: str  # the canonical settings: part of the key
    period: int  # chunks start on multiples of this (see chunk_bounds)
    unit: Callable[[Path, VideoKey, int, int | None], KeyedUnit]
    loaded_ok: Callable[[duckdb.DuckDBPyConnection, VideoKey], bool]
    load: Callable[[duckdb.DuckDBPyConnection, Path, VideoKey], bool]
    record_failure: Callable[[duckdb.DuckDBPyConnection, Path, VideoKey, str, float], None]


@dataclass
class RunSummary:
    """What a run did for one analysis, per video: counts plus (path, error) per failure."""

    processed: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Video:
    path: Path
    key: VideoKey
    analysis: Analysis
    waiting: int  # units not yet back from the engine
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


def single(parts: Sequence[KeyedUnit]) -> WorkUnit:
    """The work unit of one analysis' part (the default `combine`)."""
    (part,) = parts
    return part  # type: ignore[return-value]  # every part is also a WorkUnit


@dataclass
class _Run:
    """One run in progress: its warehouse, analyses and what it has done so far."""

    con: duckdb.DuckDBPyConnection
    analyses: Sequence[Analysis]
    summaries: dict[str, RunSummary] = field(default_factory=dict)
    pending: dict[VideoKey, _Video] = field(default_factory=dict)  # videos with units out

    def fail(self, video: _Video) -> None:
        """Record a failed video: its 'failed' status row and the summary."""
        errors = video.errors
        error = errors[0] + (f" (and {len(errors) - 1} more chunk(s))" if len(errors) > 1 else "")
        video.analysis.record_failure(self.con, video.path, video.key, error, video.elapsed_s)
        summary = self.summaries[video.analysis.name]
        summary.failed += 1
        summary.failures.append((str(video.path), error))

    def load(self, video: _Video) -> None:
        """Load a video whose units are all back, or record why it failed (a loader refuses
        a video it finds unusable with an UnusableVideoError naming it: nothing of it is
        loaded)."""
        try:
            if not video.errors and video.analysis.load(self.con, video.analysis.shard_root,
                                                        video.key):
                self.summaries[video.analysis.name].processed += 1
                return
        except UnusableVideoError as exc:
            video.errors = [str(exc)]
        video.errors = video.errors or ["shards incomplete after the run"]
        self.fail(video)


def run_analyses(
    con: duckdb.DuckDBPyConnection,
    videos: Sequence[Path | str],
    analyses: Sequence[Analysis],
    *,
    engine: Engine | None = None,
    chunk_frames: int = CHUNK_FRAMES,
    combine: Callable[[Sequence[KeyedUnit]], WorkUnit] = single,
    progress: Any = None,
    force: bool = False,
) -> dict[str, RunSummary]:
    """Run the analyses not yet loaded over the videos, committing each video on its own.

    Units with a shard on disk are not analysed again (unless `force`). An unusable video,
    or a unit that kept failing, gives the video a 'failed' status row and the run goes on;
    an interrupt stops it with finished videos loaded and shards kept.
    """
    run = _Run(con, analyses, {a.name: RunSummary() for a in analyses})
    todo = [combine(parts) for raw in videos for parts in _plan(run, Path(raw), chunk_frames,
                                                               force)]
    total = sum(len(unit.parts) for unit in todo)
    task = progress.add_task("units", total=total) if progress is not None else None
    for result in (engine or LocalEngine()).run(todo, progress):
        video = run.pending[result.unit.key]
        video.waiting -= 1
        video.elapsed_s += result.elapsed_s
        if result.error is not None:
            video.errors.append(result.error)
        else:
            write_shard(video.analysis.shard_root, result)
        if video.waiting == 0:
            run.load(video)
        if task is not None:
            progress.advance(task)
    if task is not None:
        progress.remove_task(task)
    return run.summaries


def _plan(run: _Run, path: Path, chunk_frames: int, force: bool) -> list[list[KeyedUnit]]:
    """One video's parts left to analyse, grouped by the frames they cover; an analysis
    already done is skipped (or, when all its shards are on disk, loaded), and an unusable
    video recorded as failed for every analysis."""
    period = math.lcm(*(a.period for a in run.analyses))
    keys = [VideoKey(None, a.model_hash, a.settings) for a in run.analyses]
    try:
        digest = video_hash(path)
        keys = [key._replace(video_hash=digest) for key in keys]
        wanted = [
            (a, key)
            for a, key in zip(run.analyses, keys, strict=True)
            if not _skipped(run, a, key, force)
        ]
        bounds = chunk_bounds(probe_video(path).n_frames, period, chunk_frames) if wanted else []
    except FerVideoError as exc:
        for analysis, key in zip(run.analyses, keys, strict=True):
            run.fail(_Video(path, key, analysis, 0, [str(exc)]))
        return []
    groups: dict[tuple[int, int | None], list[KeyedUnit]] = {}
    for analysis, key in wanted:
        units = [analysis.unit(path, key, start, stop) for start, stop in bounds]
        left = [u for u in units if force or not is_done(analysis.shard_root, u)]
        if left:
            run.pending[key] = _Video(path, key, analysis, len(left))
        elif analysis.load(run.con, analysis.shard_root, key):
            run.summaries[analysis.name].processed += 1
        for unit in left:
            groups.setdefault((unit.start, unit.stop), []).append(unit)
    return list(groups.values())


def _skipped(run: _Run, analysis: Analysis, key: VideoKey, force: bool) -> bool:
    """Whether this key is done already (or listed twice in this run): counted as skipped."""
    if key in run.pending or (not force and analysis.loaded_ok(run.con, key)):
        run.summaries[analysis.name].skipped += 1
        return True
    return False
