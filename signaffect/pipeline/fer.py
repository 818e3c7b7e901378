"""Drive a FER run: plan work units, skip finished ones, hand the rest to an engine, write
each result as a shard and load each finished video into raw.fer_*.

Why: this is the one process that touches the warehouse; engines only compute. Each video
commits on its own as soon as its last unit is in, so an interrupted run keeps every video
already loaded and every shard already written, and a re-run picks up from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.fer import (
    FerVideoError,
    VideoKey,
    ensure_fer_tables,
    load_fer_results,
    probe_video,
    status_row,
    video_hash,
)
from signaffect.fer_engine.detect import DetectorSettings, Mode
from signaffect.fer_engine.engines import Engine, LocalEngine
from signaffect.fer_engine.model import DEFAULT_BATCH, model_hash
from signaffect.fer_engine.shards import is_done, load_video, write_shard
from signaffect.fer_engine.units import CHUNK_FRAMES, FerUnit, plan_units

if TYPE_CHECKING:
    import duckdb


@dataclass
class FerRunSummary:
    """What run_fer did, per video: counts plus (path, error) for each failed video."""

    processed: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Video:
    path: Path
    key: VideoKey
    waiting: int  # units not yet back from the engine
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


def _loaded_ok(con: duckdb.DuckDBPyConnection, key: VideoKey) -> bool:
    row = con.execute(
        "select count(*) from raw.fer_videos where video_hash = ? and model_hash = ?"
        " and detector_settings = ? and status = 'ok'",
        list(key),
    ).fetchone()
    return bool(row and row[0])


def run_fer(
    con: duckdb.DuckDBPyConnection,
    videos: Sequence[Path | str],
    shard_root: Path,
    *,
    mode: Mode = "exact",
    fast_scale: float = 0.5,
    redetect_every: int = 5,
    rescan_every: int = 30,
    batch_size: int = DEFAULT_BATCH,
    engine: Engine | None = None,
    chunk_frames: int = CHUNK_FRAMES,
    progress: Any = None,
    force: bool = False,
) -> FerRunSummary:
    """Analyse the videos not yet loaded under these settings, committing each on its own.

    Units with a shard on disk are not analysed again (unless `force`). An unusable video,
    or a unit that kept failing, gives the video a 'failed' row in raw.fer_videos and the
    run goes on; an interrupt stops it with finished videos loaded and shards kept.
    """
    settings = DetectorSettings(mode, fast_scale, redetect_every, rescan_every)
    engine = engine or LocalEngine()
    ensure_fer_tables(con)
    model = model_hash()
    summary = FerRunSummary()

    def fail(video_path: Path, key: VideoKey, errors: list[str], elapsed: float) -> None:
        error = errors[0] + (f" (and {len(errors) - 1} more chunk(s))" if len(errors) > 1 else "")
        row = status_row(video_path, key, mode, error=error, elapsed_s=elapsed)
        load_fer_results(con, None, [row])
        summary.failed += 1
        summary.failures.append((str(video_path), error))

    todo: list[FerUnit] = []
    pending: dict[VideoKey, _Video] = {}
    for raw_path in videos:
        path = Path(raw_path)
        key = VideoKey(None, model, settings.canonical())
        try:
            key = key._replace(video_hash=video_hash(path))
            if key in pending or (not force and _loaded_ok(con, key)):
                summary.skipped += 1
                continue
            units = plan_units(path, key, settings, probe_video(path).n_frames, chunk_frames,
                               batch_size)
        except FerVideoError as exc:
            fail(path, key, [str(exc)], 0.0)
            continue
        left = [unit for unit in units if force or not is_done(shard_root, unit)]
        if left:
            pending[key] = _Video(path, key, len(left))
            todo += left
        elif load_video(con, shard_root, key):
            summary.processed += 1

    task = progress.add_task("units", total=len(todo)) if progress is not None else None
    for result in engine.run(todo, progress):
        video = pending[result.unit.key]
        video.waiting -= 1
        video.elapsed_s += result.elapsed_s
        if result.error is not None:
            video.errors.append(result.error)
        else:
            write_shard(shard_root, result)
        if video.waiting == 0:
            if video.errors:
                fail(video.path, video.key, video.errors, video.elapsed_s)
            elif load_video(con, shard_root, video.key):
                summary.processed += 1
            else:
                fail(video.path, video.key, ["shards incomplete after the run"], video.elapsed_s)
        if task is not None:
            progress.advance(task)
    if task is not None:
        progress.remove_task(task)
    return summary
