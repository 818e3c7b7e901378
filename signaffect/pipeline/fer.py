"""Drive a FER run: plan work units, skip finished ones, hand the rest to an engine, write
each result as a shard and load each finished video into raw.fer_*.

Why: this is the one process that touches the warehouse; engines only compute. Each video
commits on its own as soon as its last unit is in, so an interrupted run keeps every video
already loaded and every shard already written, and a re-run picks up from there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.fer import (
    FER_TABLES,
    ensure_fer_tables,
    load_fer_results,
    load_video,
    match_corpus_videos,
    status_row,
)
from signaffect.core.errors import SignAffectError
from signaffect.core.progress import progress_bar
from signaffect.core.warehouse import connect
from signaffect.fer_engine.detect import DetectorSettings, Mode
from signaffect.fer_engine.engines import Engine, LocalEngine, RayEngine
from signaffect.fer_engine.model import DEFAULT_BATCH, model_hash
from signaffect.fer_engine.schema import VideoKey
from signaffect.fer_engine.shards import is_done, write_shard
from signaffect.fer_engine.units import CHUNK_FRAMES, FerUnit, plan_units
from signaffect.fer_engine.video import FerVideoError, probe_video, video_hash
from signaffect.pipeline.builds import recorded_build

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


@dataclass
class _Run:
    """One run in progress: its warehouse, shards, settings and what it has done so far."""

    con: duckdb.DuckDBPyConnection
    shard_root: Path
    mode: Mode
    summary: FerRunSummary = field(default_factory=FerRunSummary)
    pending: dict[VideoKey, _Video] = field(default_factory=dict)  # videos with units out

    def fail(self, video_path: Path, key: VideoKey, errors: list[str], elapsed: float) -> None:
        """Record a failed video: its 'failed' row in raw.fer_videos and in the summary."""
        error = errors[0] + (f" (and {len(errors) - 1} more chunk(s))" if len(errors) > 1 else "")
        row = status_row(video_path, key, self.mode, error=error, elapsed_s=elapsed)
        load_fer_results(self.con, None, [row])
        self.summary.failed += 1
        self.summary.failures.append((str(video_path), error))

    def load(self, video: _Video) -> None:
        """Load a video whose units are all back, or record why it failed."""
        if video.errors:
            self.fail(video.path, video.key, video.errors, video.elapsed_s)
        elif load_video(self.con, self.shard_root, video.key):
            self.summary.processed += 1
        else:
            self.fail(video.path, video.key, ["shards incomplete after the run"], video.elapsed_s)


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
    ensure_fer_tables(con)
    run = _Run(con, shard_root, mode)
    todo = _plan(run, videos, settings, chunk_frames, batch_size, force)
    task = progress.add_task("units", total=len(todo)) if progress is not None else None
    for result in (engine or LocalEngine()).run(todo, progress):
        video = run.pending[result.unit.key]
        video.waiting -= 1
        video.elapsed_s += result.elapsed_s
        if result.error is not None:
            video.errors.append(result.error)
        else:
            write_shard(shard_root, result)
        if video.waiting == 0:
            run.load(video)
        if task is not None:
            progress.advance(task)
    if task is not None:
        progress.remove_task(task)
    return run.summary


def _plan(
    run: _Run,
    videos: Sequence[Path | str],
    settings: DetectorSettings,
    chunk_frames: int,
    batch_size: int,
    force: bool,
) -> list[FerUnit]:
    """The units left to analyse; a video already done is skipped (or, when all its shards
    are on disk, loaded), and an unusable one recorded as failed."""
    model = model_hash()
    todo: list[FerUnit] = []
    for raw_path in videos:
        path = Path(raw_path)
        key = VideoKey(None, model, settings.canonical())
        try:
            key = key._replace(video_hash=video_hash(path))
            if key in run.pending or (not force and _loaded_ok(run.con, key)):
                run.summary.skipped += 1
                continue
            units = plan_units(path, key, settings, probe_video(path).n_frames, chunk_frames,
                               batch_size)
        except FerVideoError as exc:
            run.fail(path, key, [str(exc)], 0.0)
            continue
        left = [unit for unit in units if force or not is_done(run.shard_root, unit)]
        if left:
            run.pending[key] = _Video(path, key, len(left))
            todo += left
        elif load_video(run.con, run.shard_root, key):
            run.summary.processed += 1
    return todo


def fer_engine(ray: bool, address: str | None, workers: int | None) -> Engine:
    """The engine `cli.py fer` runs on: a Ray cluster, or `workers` local processes (1: one
    unit at a time, on threads over all cores)."""
    return RayEngine(address, workers) if ray else LocalEngine(workers or 1)


def _corpus_videos(
    con: duckdb.DuckDBPyConnection, folder: Path, view: str
) -> tuple[list[Path], list[str]]:
    """The corpus's `view` videos found in `folder`, and the names of those not found;
    an error when none is found."""
    chosen, missing = match_corpus_videos(con, folder, view)
    if not chosen:
        raise SignAffectError(
            f"no {view} media file of the corpus is in {folder} ({len(missing)} expected)",
            "ingest the corpus first (`cli.py ingest PATH`), check --view, and keep the media "
            "files' names",
        )
    return chosen, missing


def fer_into_warehouse(
    db: Path,
    videos: Sequence[Path],
    videos_dir: Path | None,
    view: str,
    *,
    shard_root: Path | None,
    quiet: bool,
    on_missing: Callable[[list[str], str, Path], None],
    **run_options: Any,
) -> tuple[FerRunSummary, bool]:
    """`cli.py fer` up to the dbt step: choose the videos (the files given, or the corpus's
    `view` videos in `videos_dir`, first reporting those not found to
    `on_missing(missing, view, videos_dir)`) and run_fer them with `run_options`, shards in
    fer-shards/ beside the warehouse unless `shard_root` is given. Returns the summary and
    whether the warehouse is built (has fct_frames), which decides the dbt step."""
    con = connect(db)
    try:
        chosen = list(videos)
        if videos_dir is not None:
            chosen, missing = _corpus_videos(con, videos_dir, view)
            on_missing(missing, view, videos_dir)
        with progress_bar(quiet) as progress:
            summary = run_fer(con, chosen, shard_root or db.parent / "fer-shards",
                              progress=progress, **run_options)
        built = con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'main' and table_name = 'fct_frames'"
        ).fetchone()
    finally:
        con.close()
    return summary, bool(built and built[0])


def refresh_fer_marts(db: Path, mode: str, view: str, *, quiet: bool) -> None:
    """`dbt build --select staging.fer+ dim_build_settings` with this run's mode and view
    as dbt vars (dim_build_settings records them)."""
    with progress_bar(quiet) as progress:
        recorded_build(db, progress, {"fer_mode": mode, "fer_view": view},
                       ["--select", "staging.fer+", "dim_build_settings"],
                       partial_tables=tuple(FER_TABLES))


@dataclass(frozen=True)
class FerRequest:
    """A `cli.py fer` run: the videos (files, or the corpus's `view` videos in `videos_dir`),
    the detector's settings, the engine (Ray, or `workers` local processes) and where the
    shards go (None: fer-shards/ beside the warehouse)."""

    videos: Sequence[Path]
    videos_dir: Path | None
    view: str
    mode: Mode
    fast_scale: float
    redetect_every: int
    force: bool
    ray: bool
    workers: int | None
    address: str | None
    shards: Path | None


def fer_job(
    db: Path,
    request: FerRequest,
    *,
    quiet: bool,
    on_missing: Callable[[list[str], str, Path], None],
    on_run: Callable[[FerRunSummary, str], None],
) -> tuple[FerRunSummary, bool]:
    """`cli.py fer`: analyse and load the videos, tell `on_run(summary, mode)`, then, if the
    warehouse is built, rebuild the FER marts with this run's mode and view. Returns the
    summary and whether the marts were rebuilt (else `cli.py build` builds them)."""
    summary, built = fer_into_warehouse(
        db, request.videos, request.videos_dir, request.view, shard_root=request.shards,
        quiet=quiet, on_missing=on_missing, mode=request.mode, fast_scale=request.fast_scale,
        redetect_every=request.redetect_every, force=request.force,
        engine=fer_engine(request.ray, request.address, request.workers),
    )
    on_run(summary, request.mode)
    if built:
        refresh_fer_marts(db, request.mode, request.view, quiet=quiet)
    return summary, built
