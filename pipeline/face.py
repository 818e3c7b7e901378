"""A face-engine run: the face's share of a video run (pipeline/video_runs.py),
alone or with FER's over the same decode, and the dbt refresh of the face marts.

Why: `cli.py face` drives the MediaPipe engine exactly as `cli.py fer` drives FER (units,
engines, shards, resume, one commit per video); with `fer` settings both engines run, and a
chunk that both still need is one JointUnit, so each frame is decoded once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.face_frames import FACE_TABLES
from ingest.face_videos import FACE_VIDEOS, load_face_video, record_face_failure
from ingest.fer import FER_TABLES, loaded_ok
from pipeline.builds import recorded_build
from pipeline.fer import VideoChoice, fer_analysis, videos_into_warehouse
from pipeline.video_runs import Analysis, RunSummary, run_analyses
from signaffect.core.progress import progress_bar
from signaffect.face_engine.model import mediapipe_vision, model_hash
from signaffect.face_engine.units import FaceUnit, JointUnit
from signaffect.face_engine.video import FaceSettings
from signaffect.fer_engine.detector_settings import DetectorSettings
from signaffect.fer_engine.engines import Engine
from signaffect.fer_engine.schema import VideoKey
from signaffect.fer_engine.units import CHUNK_FRAMES, FerUnit, KeyedUnit, WorkUnit

if TYPE_CHECKING:
    import duckdb


def face_analysis(shard_root: Path, settings: FaceSettings) -> Analysis:
    """The face's share of a run: keyed by the (checksum-verified) model and the settings,
    results in raw.face_frames and raw.face_videos. A corrupt model file stops here, before
    any video is touched."""

    def unit(path: Path, key: VideoKey, start: int, stop: int | None) -> FaceUnit:
        return FaceUnit(str(path), key, settings, start, stop)

    return Analysis(
        name="face",
        shard_root=shard_root,
        model_hash=model_hash(),
        settings=settings.canonical(),
        period=1,  # IMAGE mode: every frame on its own
        unit=unit,
        loaded_ok=partial(loaded_ok, videos_table=FACE_VIDEOS),
        load=load_face_video,
        record_failure=record_face_failure,
    )


def joint(parts: Sequence[KeyedUnit]) -> WorkUnit:
    """The work unit of the parts covering one chunk: FER and the face together when both."""
    fer = next((p for p in parts if isinstance(p, FerUnit)), None)
    face = next((p for p in parts if isinstance(p, FaceUnit)), None)
    if fer is not None and face is not None:
        return JointUnit(fer, face)
    return fer or face  # type: ignore[return-value]  # one part: itself


@dataclass(frozen=True)
class FaceRun:
    """Where a face run keeps its shards and whether FER runs with it (`fer` settings)."""

    shard_root: Path
    settings: FaceSettings = field(default_factory=FaceSettings)
    fer: DetectorSettings | None = None
    fer_shard_root: Path | None = None


def run_face(
    con: duckdb.DuckDBPyConnection,
    videos: Sequence[Path | str],
    run: FaceRun,
    *,
    engine: Engine | None = None,
    chunk_frames: int = CHUNK_FRAMES,
    progress: Any = None,
    force: bool = False,
) -> dict[str, RunSummary]:
    """The face engine (and FER, when `run.fer` is set) over the videos not yet loaded,
    committing each on its own; summaries by analysis name ('face', 'fer')."""
    analyses = [face_analysis(run.shard_root, run.settings)]
    if run.fer is not None:
        fer_root = run.fer_shard_root or run.shard_root.parent / "fer-shards"
        analyses.append(fer_analysis(fer_root, run.fer))
    return run_analyses(con, videos, analyses, engine=engine, chunk_frames=chunk_frames,
                        combine=joint, progress=progress, force=force)


def face_into_warehouse(
    db: Path, choice: VideoChoice, run: FaceRun | None, *, quiet: bool, **run_options: Any
) -> tuple[dict[str, RunSummary], bool]:
    """`cli.py face` up to the dbt step: run_face the chosen videos, shards in face-shards/
    (and fer-shards/) beside the warehouse unless `run` says otherwise. Returns the
    summaries and whether the warehouse is built."""
    run = run or FaceRun(db.parent / "face-shards")
    mediapipe_vision()  # a missing mediapipe or a corrupt model is one line before the
    model_hash()  # warehouse is opened, not a failure per video
    return videos_into_warehouse(
        db, choice, quiet,
        lambda con, chosen, progress: run_face(con, chosen, run, progress=progress,
                                               **run_options),
    )


def refresh_face_marts(db: Path, fer_mode: str | None, view: str, *, quiet: bool) -> None:
    """`dbt build --select staging.face+ dim_build_settings` (and staging.fer+ with this
    run's FER mode and view when FER ran too)."""
    select, tables, dbt_vars = ["staging.face+", "dim_build_settings"], list(FACE_TABLES), {}
    if fer_mode is not None:
        select.append("staging.fer+")
        tables += list(FER_TABLES)
        dbt_vars = {"fer_mode": fer_mode, "fer_view": view}
    with progress_bar(quiet) as progress:
        recorded_build(db, progress, dbt_vars, ["--select", *select],
                       partial_tables=tuple(tables))


def face_job(
    db: Path,
    choice: VideoChoice,
    run: FaceRun,
    *,
    quiet: bool,
    on_run: Callable[[str, RunSummary], None],
    **run_options: Any,
) -> tuple[dict[str, RunSummary], bool]:
    """`cli.py face`: analyse and load the videos, tell `on_run(analysis, summary)` for each
    analysis run, then, if the warehouse is built, rebuild the face (and FER) marts. Returns
    the summaries and whether the marts were rebuilt (else `cli.py build` builds them)."""
    summaries, built = face_into_warehouse(db, choice, run, quiet=quiet, **run_options)
    for name, summary in summaries.items():
        on_run(name, summary)
    if built:
        refresh_face_marts(db, run.fer.mode if run.fer else None, choice.view, quiet=quiet)
    return summaries, built
