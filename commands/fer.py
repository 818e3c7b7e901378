"""`fer`: facial expression recognition over videos, into the warehouse."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from commands.common import State, fail
from signaffect.core.choices import FerMode
from signaffect.core.errors import SignAffectError
from signaffect.core.output import note, out, warn
from signaffect.fer_engine.detect import DetectorSettings

if TYPE_CHECKING:  # the FER engine loads only for `fer`
    from signaffect.pipeline.fer import FerRunSummary

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
    from signaffect.pipeline.fer import FerRequest, fer_job

    if bool(videos) == (videos_dir is not None):
        raise typer.BadParameter("give either video files or --videos DIR")
    if address is not None and engine is not FerEngine.ray:
        raise typer.BadParameter("--address needs --engine ray")
    request = FerRequest(videos or [], videos_dir, view, mode.value, fast_scale, redetect_every,
                         force, engine is FerEngine.ray, workers, address, shards)
    try:
        summary, built = fer_job(State.db, request, quiet=State.quiet,
                                 on_missing=_warn_missing_videos, on_run=_print_summary)
        if built:
            out.print(f"built fct_fer_frames in {State.db}")
        else:
            note("hint: the warehouse is not built yet: `cli.py build` builds fct_fer_frames "
                 "(with or without a corpus ingested)")
        if summary.failed:
            raise SignAffectError(
                f"{summary.failed} video(s) failed; the others were loaded",
                "fix or remove the videos named above and run again (finished videos are skipped)",
            )
    except SignAffectError as exc:
        fail(exc)


def _print_summary(summary: FerRunSummary, mode: str) -> None:
    """What the run did, before the marts are refreshed; one warning per failed video."""
    out.print(f"fer ({mode}): {summary.processed} processed, {summary.skipped} "
              f"skipped (already done), {summary.failed} failed")
    for path, error in summary.failures:
        warn(error if path in error else f"{path}: {error}")
