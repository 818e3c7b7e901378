"""The corpus and the build: `ingest`, `remove`, `build` and `run` (the main job)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from commands.common import State, print_lines, with_settings
from ingest.frame_rates import MAX_FPS, MIN_FPS
from pipeline.options import CorpusOptions
from signaffect.core.build_settings import BuildSettings, project_vars
from signaffect.core.choices import (
    ClusterUnit,
    ComparisonSet,
    CoverageLevel,
    FrameConvention,
    LexicalScope,
)
from signaffect.core.output import emit, note, out, warn
from signaffect.core.paths import check_out_dir
from signaffect.core.progress import progress_bar
from signaffect.core.settings import SAMPLE_CORPUS_DIR

if TYPE_CHECKING:
    from ingest.corpus import IngestSummary

app = typer.Typer()

def check_fps(value: float) -> float:
    """A frame rate a video can have (NaN, which compares false to every bound, included)."""
    if not MIN_FPS <= value <= MAX_FPS:
        raise typer.BadParameter(f"{value} is not a frame rate from {MIN_FPS:g} to {MAX_FPS:g}")
    return value


#: `CorpusOptions` as options of `ingest` and `run` (their defaults are the dataclass's).
CORPUS_OPTIONS = {
    "lexicons": Annotated[bool, typer.Option(
        "--lexicons/--no-lexicons",
        help="Label glosses and translations with Empath and NRC EmoLex (and LIWC if given).",
    )],
    "liwc_dic": Annotated[Path | None, typer.Option(
        help="A licensed LIWC .dic file; its categories become liwc:<category>."
    )],
    "lexicon_names": Annotated[list[str] | None, typer.Option(
        "--lexicon", help="Lexicons to use (repeat): empath, nrc, liwc. Default: empath and "
        "nrc, plus liwc with --liwc-dic.", show_default=False,
    )],
    "categories": Annotated[list[str], typer.Option(
        "--category", help="lexicon:category to keep (repeat), e.g. empath:confusion; a "
        "lexicon not named keeps its default (emotion) categories.", show_default=False,
    )],
    "tiers": Annotated[Path | None, typer.Option(
        "--tiers", help="ELAN tier mapping (TOML) for the .eaf files. Default: detect a "
        "shipped preset (NCSLGR ELAN conversion, Public DGS Corpus) from their tier names.",
        show_default=False,
    )],
    "fps": Annotated[float, typer.Option(
        "--fps", help="Video frame rate of DAI 2 XML exports (their times are frames) and of "
        f"--face-csv MediaPipe CSVs without timestamp_ms, {MIN_FPS:g} to {MAX_FPS:g}.",
        callback=check_fps,
    )],
    "add": Annotated[bool, typer.Option(
        "--add", help="Add these files to the corpus already loaded. Default: the warehouse "
        "then holds exactly these files (others loaded before are removed).",
    )],
    "replace": Annotated[bool, typer.Option(
        "--replace", help="Let a file replace the loaded story of the same name (storm.xml, "
        "storm.eaf) read from another path. Default: refused, naming both paths.",
    )],
}


def _kept(var: str) -> str:
    """The end of a build option's help: what it is when not given."""
    return f" Default: as the last build, else {project_vars()[var]}."


#: `BuildSettings` as options of `build` and `run`: each sets the dbt var of its name.
BUILD_OPTIONS = {
    "frame_convention": Annotated[FrameConvention | None, typer.Option(
        help="How stored ms become frames: floor (the frame holding the time, as video "
        "decoding counts), nearest (SignStream's intended frame) or study (the reference "
        "study's 33 ms frames: NCSLGR gives its 180,666 frames)."
        + _kept("frame_convention"), show_default=False,
    )],
    "lexical_scope": Annotated[LexicalScope | None, typer.Option(
        help="Where a lexical label goes: the frames of the sign whose gloss has the word "
        "(sign) or every frame of the utterance whose translation has it (utterance)."
        + _kept("lexical_scope"), show_default=False,
    )],
    "coverage_level": Annotated[CoverageLevel | None, typer.Option(
        help="A feature's denominators: the files that code its field (field) or, stricter, "
        "that use its very value (value)." + _kept("coverage_level"), show_default=False,
    )],
    "comparison_set": Annotated[ComparisonSet | None, typer.Option(
        help="What a label's units are compared with: units that could carry a label "
        "(eligible) or every unit, as the study did (all)." + _kept("comparison_set"),
        show_default=False,
    )],
    "association_cluster_unit": Annotated[ClusterUnit | None, typer.Option(
        help="The strata of the association statistics' MH odds ratio and exact test."
        + _kept("association_cluster_unit"), show_default=False,
    )],
    "association_resamples": Annotated[int | None, typer.Option(
        help="Story-bootstrap draws of the frame-grain OR interval and of lift's interval."
        + _kept("association_resamples"), show_default=False,
    )],
    "association_seed": Annotated[int | None, typer.Option(
        help="Seed of the association statistics' bootstrap." + _kept("association_seed"),
        show_default=False,
    )],
}


def print_ingest_summary(summary: IngestSummary) -> None:
    """What was loaded, replaced and removed, and how much of the text the lexicons cover."""
    for old, new in summary.replaced.renamed:
        warn(f"{new} has the same content as the loaded {old}: {old} was replaced by {new}")
    for story, old_path, new_path in summary.replaced.replaced_stories:
        if old_path == new_path:
            warn(f"{new_path} changed since it was loaded: story {story!r} was replaced")
        else:
            warn(f"story {story!r} from {old_path} was replaced by {new_path}")
    removed = summary.replaced.removed
    if removed:
        more = f" and {len(removed) - 10} more" if len(removed) > 10 else ""
        listed = ", ".join(removed[:10]) + more
        note(f"removed {len(removed)} file(s) loaded before and not given now (use --add to "
             f"keep them): {listed}")
    out.print(
        f"ingested {len(summary.files)} file(s): "
        f"{summary.rows['signstream_utterances']} utterances, "
        f"{summary.rows['signstream_annotations']} annotations, "
        f"{summary.rows['lexicon_hits']} lexicon hits into {State.db}"
    )
    for scope, cover in summary.lexicon_coverage.items():
        out.print(
            f"lexicon coverage ({scope}s): {int(cover['covered'])} of {int(cover['total'])} "
            f"have a lexicon word ({cover['share']:.1%})"
        )


FaceCsvOption = Annotated[
    list[Path] | None,
    typer.Option("--face-csv", help="Tracker output to load into raw.face_frames (repeatable): "
                 "OpenFace 2.x or MediaPipe blendshape CSVs, each named after its corpus media "
                 "file (DSP DeadDog.mov -> DSP DeadDog.csv). Loaded after PATHS.",
                 exists=True, dir_okay=False, show_default=False),
]  # fmt: skip


@app.command(
    epilog="Example: cli.py ingest ../shared/ncslgr-xml --liwc-dic LIWC2015.dic\n\n"
    "Example: cli.py ingest my-corpus/ --tiers my-corpus.toml\n\n"
    'Example: cli.py ingest --face-csv "openface/DSP DeadDog.csv"   (tracker output, corpus kept)'
)
@with_settings(CorpusOptions, CORPUS_OPTIONS, into="corpus")
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="SignStream or DAI 2 XML, ELAN .eaf files, or folders of them "
                       "(sub-folders included).", show_default=False),
    ] = None,
    *,
    corpus: CorpusOptions,
    face_csv: FaceCsvOption = None,
) -> None:
    """Load corpus files (SignStream, ELAN, DAI 2) and their lexicon hits into schema raw
    (all files or none); the corpus becomes exactly these files unless --add. --face-csv
    loads tracker output into raw.face_frames (all CSVs or none), matched to the corpus."""
    from pipeline.corpus import ingest_corpus
    from pipeline.face_csv import ingest_face_csvs

    if not paths and not face_csv:
        raise typer.BadParameter("give corpus PATHS, --face-csv files, or both")
    if paths:
        with progress_bar(State.quiet) as progress:
            summary = ingest_corpus(State.db, paths, progress, corpus)
        print_ingest_summary(summary)
    if face_csv:
        n_rows = ingest_face_csvs(State.db, face_csv, corpus.fps)
        out.print(f"loaded {len(face_csv)} tracker CSV(s), {n_rows} face frames, into "
                  f"raw.face_frames of {State.db}")
        note("hint: run `cli.py build` to rebuild fct_face_frames and the face:* features")


@app.command(epilog="Example: cli.py remove storm flat-tire.xml")
def remove(
    stories: Annotated[
        list[str], typer.Argument(help="Stories (file names without .xml) or file names.")
    ],
) -> None:
    """Remove stories from the corpus in schema raw (all named or none); then `cli.py build`."""
    from pipeline.corpus import remove_corpus_files

    removed = remove_corpus_files(State.db, stories)
    out.print(f"removed {len(removed)} file(s) from {State.db}: {', '.join(removed)}")
    note("hint: run `cli.py build` to rebuild the marts without them")


@app.command(
    epilog="Example: cli.py build\n\n"
    "Example: cli.py build --frame-convention study   (the study's 180,666 NCSLGR frames)"
)
@with_settings(BuildSettings, BUILD_OPTIONS, into="settings")
def build(
    settings: BuildSettings,
    force: Annotated[
        bool, typer.Option("--force", help="Run dbt even when nothing changed since the last "
                           "build (raw data, settings and project code the same).")
    ] = False,
) -> None:
    """Run `dbt build` in-process: models, seeds and every data test, with the settings of
    the last build (the warehouse records them; `cli.py status` shows them) and the options
    given over them; skipped when nothing changed since the last build."""
    from pipeline.corpus import build_warehouse
    from read.status import settings_line

    with progress_bar(State.quiet) as progress:
        ran = build_warehouse(State.db, progress, settings.as_vars(), force=force)
    if ran:
        out.print(f"built {State.db}")
    else:
        out.print(f"{State.db}: nothing changed since the last build (raw data, settings and "
                  "code); the marts are current (--force runs dbt anyway)")
    print_lines([settings_line(State.db)])


@app.command(
    epilog="Example: cli.py run   (the bundled sample corpus)\n\n"
    "Example: cli.py run ../shared/ncslgr-xml --no-train"
)
@with_settings(CorpusOptions, CORPUS_OPTIONS, into="corpus")
@with_settings(BuildSettings, BUILD_OPTIONS, into="settings")
def run(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Corpus files or folders (sub-folders included). Default: the "
                       "bundled sample corpus."),
    ] = None,
    train: Annotated[
        bool,
        typer.Option(
            "--train/--no-train",
            help="Train twice: story-grouped CV (the verdict) and, beside it, the study's "
            "frame-level KFold.",
        ),
    ] = True,
    report_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the report (report.html, report.md).")
    ] = Path("reports"),
    *,
    corpus: CorpusOptions,
    settings: BuildSettings,
) -> None:
    """The main job: ingest a corpus (default: the bundled sample), build, train, report.
    The warehouse then holds exactly that corpus, unless --add."""
    from pipeline.run import run_main_job
    from read import queries

    check_out_dir(report_dir)
    with progress_bar(State.quiet) as progress:
        done = run_main_job(State.db, paths or [SAMPLE_CORPUS_DIR], corpus, progress,
                            train_models=train, report_dir=report_dir,
                            dbt_vars=settings.as_vars())
    counts = queries.headline_counts(State.db)
    print_ingest_summary(done.summary)
    out.print(f"built {State.db}")
    emit(counts)
    if done.results:
        from read.training_tables import grouped_then_kfold

        print_lines(grouped_then_kfold(*done.results))
    out.print(f"report: {done.report}")
