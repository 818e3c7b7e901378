"""A FER run: FER's share of a video run (pipeline/video_runs.py), the videos of
the corpus in a folder, and the dbt refresh of the FER marts.

Why: the driving (units, shards, resume, one commit per video) is the same for every video
engine and written once in video_runs; this module says what is FER's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ingest.fer import (
    FER_TABLES,
    load_fer_results,
    load_video,
    loaded_ok,
    match_corpus_videos,
    status_row,
)
from pipeline.builds import recorded_build
from pipeline.video_runs import Analysis, RunSummary, run_analyses
from signaffect.core.errors import SignAffectError
from signaffect.core.progress import progress_bar
from signaffect.core.warehouse import connect
from signaffect.fer_engine.detector_settings import DetectorSettings, Mode
from signaffect.fer_engine.engines import Engine, LocalEngine, RayEngine
from signaffect.fer_engine.model import DEFAULT_BATCH, model_hash
from signaffect.fer_engine.schema import VideoKey
from signaffect.fer_engine.units import CHUNK_FRAMES, FerUnit

if TYPE_CHECKING:
    import duckdb

T = TypeVar("T")


def _record_failure(
    mode: Mode,
    con: duckdb.DuckDBPyConnection,
    path: Path,
    key: VideoKey,
    error: str,
    elapsed_s: float,
) -> None:
    """A video's 'failed' row in raw.fer_videos (replacing its last)."""
    load_fer_results(con, None, [status_row(path, key, mode, error=error, elapsed_s=elapsed_s)])


def fer_analysis(
    shard_root: Path, settings: DetectorSettings, batch_size: int = DEFAULT_BATCH
) -> Analysis:
    """FER's share of a run: keyed by the emotion model and detector settings, results in
    raw.fer_frames and raw.fer_videos."""

    def unit(path: Path, key: VideoKey, start: int, stop: int | None) -> FerUnit:
        return FerUnit(str(path), key, settings, start, stop, batch_size)

    return Analysis(
        name="fer",
        shard_root=shard_root,
        model_hash=model_hash(),
        settings=settings.canonical(),
        period=settings.restart_period,
        unit=unit,
        loaded_ok=partial(loaded_ok, videos_table="fer_videos"),
        load=load_video,
        record_failure=partial(_record_failure, settings.mode),
    )


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
) -> RunSummary:
    """Analyse the videos not yet loaded under these settings, committing each on its own
    (see run_analyses): an unusable video, or a unit that kept failing, gives the video a
    'failed' row in raw.fer_videos and the run goes on."""
    settings = DetectorSettings(mode, fast_scale, redetect_every, rescan_every)
    analysis = fer_analysis(shard_root, settings, batch_size)
    return run_analyses(con, videos, [analysis], engine=engine, chunk_frames=chunk_frames,
                        progress=progress, force=force)["fer"]


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


@dataclass(frozen=True)
class VideoChoice:
    """Which videos a command runs on: the files given, or the corpus's `view` videos in
    `folder`, those not found first reported to `on_missing(missing, view, folder)`."""

    files: Sequence[Path]
    folder: Path | None
    view: str
    on_missing: Callable[[list[str], str, Path], None]


def videos_into_warehouse(
    db: Path, choice: VideoChoice, quiet: bool, run: Callable[..., T]
) -> tuple[T, bool]:
    """Choose the videos, then `run(con, videos, progress)`. Returns its result and whether
    the warehouse is built (has fct_frames), which decides the dbt step."""
    con = connect(db)
    try:
        chosen = list(choice.files)
        if choice.folder is not None:
            chosen, missing = _corpus_videos(con, choice.folder, choice.view)
            choice.on_missing(missing, choice.view, choice.folder)
        with progress_bar(quiet) as progress:
            result = run(con, chosen, progress)
        built = con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'main' and table_name = 'fct_frames'"
        ).fetchone()
    finally:
        con.close()
    return result, bool(built and built[0])


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
) -> tuple[RunSummary, bool]:
    """`cli.py fer` up to the dbt step: run_fer the chosen videos (see VideoChoice) with
    `run_options`, shards in fer-shards/ beside the warehouse unless `shard_root` is given.
    Returns the summary and whether the warehouse is built."""
    root = shard_root or db.parent / "fer-shards"
    return videos_into_warehouse(
        db, VideoChoice(videos, videos_dir, view, on_missing), quiet,
        lambda con, chosen, progress: run_fer(con, chosen, root, progress=progress,
                                              **run_options),
    )


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
    on_run: Callable[[RunSummary, str], None],
) -> tuple[RunSummary, bool]:
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
