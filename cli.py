"""SignAffect command line: ingest a SignStream corpus, build the warehouse, query it.

The CLI only parses options and prints; the work lives in `ingest/`, `ml/` and dbt.
Exit codes: 0 ok, 1 the pipeline failed, 2 usage.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ingest.corpus import IngestSummary
from ml.options import CV, ClassWeight, Inputs, Scope
from signaffect import queries
from signaffect.errors import SignAffectError
from signaffect.progress import progress_bar
from signaffect.settings import SAMPLE_CORPUS_DIR, db_path

app = typer.Typer(
    help="SignAffect: how the face carries emotion and grammar in ASL, as SQL over every frame.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)


class State:
    """Global options shared by every command."""

    db: Path = db_path()
    debug: bool = False
    quiet: bool = False


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


@app.callback()
def main(
    db: Annotated[
        Path | None,
        typer.Option(
            help="Warehouse file. Default: env SIGNAFFECT_DB, else warehouse/signaffect.duckdb.",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show full tracebacks on errors.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Global options."""
    State.db = db_path(db)
    State.debug = debug
    State.quiet = quiet


def fail(exc: SignAffectError) -> None:
    """Print one error line (plus a hint) and exit 1; re-raise under --debug."""
    if State.debug:
        raise exc
    for line in getattr(exc, "errors", []):
        err.print(f"[red]error:[/red] {line}", markup=True, highlight=False, soft_wrap=True)
    err.print(f"[red]error:[/red] {exc.message}", markup=True, highlight=False, soft_wrap=True)
    if exc.hint:
        err.print(f"[dim]hint: {exc.hint}[/dim]", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


LexiconsOption = Annotated[
    bool,
    typer.Option(
        "--lexicons/--no-lexicons",
        help="Label glosses and translations with Empath and NRC EmoLex (and LIWC if given).",
    ),
]
LiwcOption = Annotated[
    Path | None,
    typer.Option(help="A licensed LIWC .dic file; its categories become liwc:<category>."),
]
LexiconNameOption = Annotated[
    list[str] | None,
    typer.Option(
        "--lexicon",
        help="Lexicons to use (repeat): empath, nrc, liwc. Default: empath and nrc, plus liwc "
        "with --liwc-dic.",
        show_default=False,
    ),
]
CategoryOption = Annotated[
    list[str] | None,
    typer.Option(
        "--category",
        help="lexicon:category to keep (repeat), e.g. empath:confusion; a lexicon not named "
        "keeps its default (emotion) categories.",
        show_default=False,
    ),
]


def print_ingest_summary(summary: IngestSummary) -> None:
    """What was loaded, and how much of the text the lexicons cover."""
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


@app.command(epilog="Example: cli.py ingest ../shared/ncslgr-xml --liwc-dic LIWC2015.dic")
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="SignStream XML files or folders of them.")],
    lexicons: LexiconsOption = True,
    liwc_dic: LiwcOption = None,
    lexicon: LexiconNameOption = None,
    category: CategoryOption = None,
) -> None:
    """Load SignStream XML files and their lexicon hits into schema raw (all files or none)."""
    from signaffect.pipeline import ingest_corpus

    try:
        with progress_bar(State.quiet) as progress:
            summary = ingest_corpus(
                State.db,
                paths,
                progress,
                lexicons=lexicons,
                liwc_dic=liwc_dic,
                lexicon_names=lexicon,
                categories=category or (),
            )
    except SignAffectError as exc:
        fail(exc)
        return
    print_ingest_summary(summary)


@app.command(epilog="Example: cli.py build")
def build() -> None:
    """Run `dbt build` in-process: models, seeds and every data test."""
    from signaffect.pipeline import build_warehouse

    try:
        with progress_bar(State.quiet) as progress:
            build_warehouse(State.db, progress)
    except SignAffectError as exc:
        fail(exc)
        return
    out.print(f"built {State.db}")


@app.command(
    epilog='Example: cli.py query "select count(*) from fct_frames" --format csv\n\n'
    'Example: cli.py query "select story, count(*) from frames group by 1" --parquet export/'
)
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run against the warehouse (read-only).")],
    format: Annotated[OutputFormat, typer.Option(help="Output format.")] = OutputFormat.table,
    parquet: Annotated[
        Path | None,
        typer.Option(help="Query a `cli.py export` folder instead of the warehouse: each "
                     "Parquet file and partitioned folder is a view (frames, frame_features, "
                     "...).", show_default=False),
    ] = None,
) -> None:
    """Run ad hoc SQL over the warehouse (or an exported Parquet dataset) and print it."""
    try:
        result = (
            queries.run_parquet_query(parquet, sql)
            if parquet is not None
            else queries.run_query(State.db, sql)
        )
    except SignAffectError as exc:
        fail(exc)
        return
    if format is OutputFormat.table:
        out.print(queries.as_rich_table(result))
    elif format is OutputFormat.csv:
        sys.stdout.write(queries.as_csv(result))
    else:
        sys.stdout.write(queries.as_json(result))


@app.command(epilog="Example: cli.py status")
def status() -> None:
    """List the warehouse's tables and views with their row counts."""
    try:
        result = queries.table_counts(State.db)
    except SignAffectError as exc:
        fail(exc)
        return
    out.print(queries.as_rich_table(result))


@app.command(
    epilog="Example: cli.py run   (the bundled sample corpus)\n\n"
    "Example: cli.py run ../shared/ncslgr-xml --no-train"
)
def run(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Corpus files or folders. Default: the bundled sample corpus."),
    ] = None,
    lexicons: LexiconsOption = True,
    liwc_dic: LiwcOption = None,
    lexicon: LexiconNameOption = None,
    category: CategoryOption = None,
    train: Annotated[
        bool,
        typer.Option(
            "--train/--no-train",
            help="Train twice: the study's frame-level KFold and story-grouped CV.",
        ),
    ] = True,
    report_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the report (report.html, report.md).")
    ] = Path("reports"),
) -> None:
    """The main job: ingest a corpus (default: the bundled sample), build, train, report."""
    from ml.train import TrainConfig
    from ml.train import train as train_model
    from signaffect.pipeline import build_warehouse, ingest_corpus
    from signaffect.report import write_report

    corpus = paths or [SAMPLE_CORPUS_DIR]
    modes = (CV.kfold, CV.story) if train else ()
    try:
        with progress_bar(State.quiet) as progress:
            summary = ingest_corpus(
                State.db,
                corpus,
                progress,
                lexicons=lexicons,
                liwc_dic=liwc_dic,
                lexicon_names=lexicon,
                categories=category or (),
            )
            build_warehouse(State.db, progress)
            results = [train_model(State.db, TrainConfig(cv=cv), progress) for cv in modes]
            html_path, _ = write_report(State.db, report_dir)
        counts = queries.headline_counts(State.db)
    except SignAffectError as exc:
        fail(exc)
        return
    print_ingest_summary(summary)
    out.print(f"built {State.db}")
    out.print(queries.as_rich_table(counts))
    for cv, result in zip(modes, results, strict=True):
        micro = result.outcome.reports["random_forest"].averages["micro"]
        chance = result.outcome.reports["stratified"].averages["micro"]
        out.print(
            f"train --cv {cv.value}: micro F1 {micro.f1:.3f} "
            f"(label-prior baseline {chance.f1:.3f}), run {result.run_id}"
        )
    out.print(f"report: {html_path}")


class RankBy(str, Enum):
    p = "p"
    lift = "lift"
    pmi = "pmi"


@app.command(epilog="Example: cli.py top empath:negative_emotion --by lift --kind au,head")
def top(
    label: Annotated[
        str, typer.Argument(help="A feature, e.g. empath:confusion or 'wh question=whq'.")
    ],
    by: Annotated[RankBy, typer.Option(help="Rank by P(feature | label), lift or PMI.")] = RankBy.p,
    k: Annotated[int, typer.Option(help="How many features to list.", min=1)] = 10,
    kind: Annotated[
        str, typer.Option(help="Comma-separated feature kinds to rank.")
    ] = "facial,head,grammatical,pos,au",
    min_frames: Annotated[
        int, typer.Option(help="Least frames a feature must share with the label.", min=0)
    ] = 0,
    format: Annotated[OutputFormat, typer.Option(help="Output format.")] = OutputFormat.table,
) -> None:
    """The features most associated with a label, from fct_feature_cooccurrence."""
    from signaffect.associations import top_features

    try:
        result = top_features(
            State.db, label, by=by.value, k=k, kinds=kind.split(","), min_frames=min_frames
        )
    except SignAffectError as exc:
        fail(exc)
        return
    if format is OutputFormat.table:
        out.print(queries.as_rich_table(result, title=f"top {k} by {by.value} for {label}"))
    elif format is OutputFormat.csv:
        sys.stdout.write(queries.as_csv(result))
    else:
        sys.stdout.write(queries.as_json(result))



@app.command(
    epilog="Example: cli.py train --cv story\n\n"
    "Example: cli.py train --cv signer --scope utterance --labels nrc:anger,nrc:joy"
)
def train(
    cv: Annotated[
        CV,
        typer.Option(
            help="kfold = the study's shuffled frame-level KFold (neighbouring frames leak); "
            "story / utterance = GroupKFold; signer = leave one signer out."
        ),
    ] = CV.kfold,
    folds: Annotated[
        int, typer.Option(help="Folds (grouped CV: at most one per group).", min=2)
    ] = 10,
    labels: Annotated[
        str | None,
        typer.Option(help="Comma-separated labels to predict. Default: all in the matrix.",
                     show_default=False),
    ] = None,
    scope: Annotated[
        Scope | None,
        typer.Option(help="Lexical label scope; rebuilds the ML mart with dbt if it differs. "
                     "Default: as built.", show_default=False),
    ] = None,
    inputs: Annotated[
        Inputs | None,
        typer.Option(help="Inputs: au (FACS action units) or facial (raw face and head codes); "
                     "rebuilds the ML mart if it differs. Default: as built.", show_default=False),
    ] = None,
    trees: Annotated[int, typer.Option(help="Trees in the forest.", min=1)] = 100,
    max_depth: Annotated[
        int | None, typer.Option(help="Tree depth limit. Default: none.", min=1, show_default=False)
    ] = None,
    class_weight: Annotated[
        ClassWeight, typer.Option(help="Class weighting of the forest.")
    ] = ClassWeight.none,
    seed: Annotated[int, typer.Option(help="Random seed (folds, forest, baselines).")] = 0,
    artifacts_dir: Annotated[
        Path | None,
        typer.Option(help="Where to save <run_id>/model.skops and metrics.json. "
                     "Default: artifacts/.", show_default=False),
    ] = None,
) -> None:
    """Predict lexical emotion labels from the face: random forest, cross-validated, recorded."""
    from ml.model import ForestSettings
    from ml.report import describe_cv, importance_table, label_table, summary_table
    from ml.train import TrainConfig, ensure_mart
    from ml.train import train as train_model

    config = TrainConfig(
        cv=cv,
        folds=folds,
        labels=tuple(x.strip() for x in labels.split(",") if x.strip()) if labels else None,
        forest=ForestSettings(
            n_estimators=trees, max_depth=max_depth, class_weight=class_weight, seed=seed
        ),
    )
    try:
        with progress_bar(State.quiet) as progress:
            ensure_mart(State.db, scope, inputs, progress)
            result = train_model(State.db, config, progress, artifacts_dir=artifacts_dir)
    except SignAffectError as exc:
        fail(exc)
        return
    out.print(describe_cv(result))
    out.print(label_table(result))
    out.print(summary_table(result))
    out.print(importance_table(result))
    out.print(
        f"run {result.run_id}: {result.matrix.n_frames} frames "
        f"({result.outcome.n_unique_rows} distinct rows) in {result.duration_s:.0f}s; "
        f"saved to ml_runs and {result.artifacts}"
    )


@app.command(
    epilog="Example: cli.py report --out reports/ncslgr\n\n"
    "Example: cli.py report --labels nrc:anger,nrc:joy --k 15"
)
def report(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for report.html, report.md and the PNGs.")
    ] = Path("reports"),
    labels: Annotated[
        str | None,
        typer.Option(help="Comma-separated lexical labels to rank features for. Default: "
                     "empath:negative_emotion and empath:confusion if present, else the most "
                     "frequent labels.", show_default=False),
    ] = None,
    top: Annotated[int, typer.Option(help="Bars per count chart.", min=1)] = 25,
    k: Annotated[int, typer.Option(help="Features per label table.", min=1)] = 10,
) -> None:
    """Write a self-contained HTML report (and a Markdown twin) from the warehouse."""
    from signaffect.report import write_report

    chosen = [x.strip() for x in labels.split(",") if x.strip()] if labels else None
    try:
        html_path, md_path = write_report(State.db, out_dir, labels=chosen, top_n=top, k=k)
    except SignAffectError as exc:
        fail(exc)
        return
    sys.stdout.write(f"{html_path}\n{md_path}\n")


@app.command(epilog="Example: cli.py export --out export/ncslgr")
def export(
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder for the Parquet files and their README.md; "
                     "an earlier export there is replaced."),
    ] = Path("export"),
) -> None:
    """Export the frame dataset as Parquet (frame tables partitioned by story) with a card."""
    from signaffect.export import export_dataset

    try:
        rows = export_dataset(State.db, out_dir)
    except SignAffectError as exc:
        fail(exc)
        return
    for name, n in rows.items():
        sys.stdout.write(f"{name}\t{n}\n")
    sys.stdout.write(f"{out_dir.resolve()}\n")


class FerMode(str, Enum):
    exact = "exact"
    fast = "fast"


class FerEngine(str, Enum):
    local = "local"
    ray = "ray"


FER_WARN_LIMIT = 10  # missing corpus videos listed one per line; the rest are counted


@app.command(
    epilog="Example: cli.py fer --videos ~/ncslgr-videos   (the corpus's master videos)\n\n"
    "Example: cli.py fer clip1.mov clip2.mov --mode fast --workers 2\n\n"
    "Example: cli.py fer --videos /data/videos --engine ray --address ray://head:10001\n\n"
    "Re-runs skip finished videos and chunks. fct_fer_frames shows one mode and view: this command "
    "rebuilds it with its own --mode and --view; `cli.py build` uses dbt vars fer_mode and "
    "fer_view (default exact, master)."
)
def fer(
    videos: Annotated[
        list[Path] | None,
        typer.Argument(help="Video files to analyse; linked to the corpus only if named like "
                       "one of its media files.", show_default=False),
    ] = None,
    videos_dir: Annotated[
        Path | None,
        typer.Option("--videos", help="Folder of the corpus's videos: the files directly in it "
                     "named like a media file of --view are analysed.", show_default=False,
                     exists=True, file_okay=False),
    ] = None,
    view: Annotated[
        str, typer.Option(help="Camera view (master, slave1, ...) matched with --videos; its "
                          "largest face gives each frame its fer:<emotion> feature.")
    ] = "master",
    mode: Annotated[
        FerMode, typer.Option(help="exact = fer's recipe on every frame; fast = downscaled, "
                              "tracked detection (several times faster).")
    ] = FerMode.exact,
    fast_scale: Annotated[
        float, typer.Option(help="Fast mode: scale frames by this before detecting.",
                            min=0.05, max=1.0)
    ] = 0.5,
    redetect_every: Annotated[
        int, typer.Option(help="Fast mode: detect every N frames, track in between.", min=1)
    ] = 5,
    force: Annotated[
        bool, typer.Option(help="Analyse again videos already done with these settings.")
    ] = False,
    engine: Annotated[
        FerEngine, typer.Option(help="local = this machine; ray = a Ray cluster (Ray comes "
                                "with the scale extra, which the setup script installs).")
    ] = FerEngine.local,
    workers: Annotated[
        int | None, typer.Option(help="local: processes, one unit each (default 1: one unit at "
                                 "a time on threads over all cores); ray: CPUs of the local "
                                 "Ray (default all cores).", min=1, show_default=False)
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="ray: the cluster to join (e.g. ray://head:10001 or "
                                 "auto). Default: start a local Ray.", show_default=False)
    ] = None,
    shards: Annotated[
        Path | None, typer.Option(help="Folder for the per-chunk Parquet results. Default: "
                                  "fer-shards/ beside the warehouse file.", show_default=False)
    ] = None,
) -> None:
    """Facial expression recognition over videos into raw.fer_*, then refresh fct_fer_frames."""
    # Finished videos are skipped; an unusable one is recorded as failed, the others still
    # load, and the exit code is 1. If the warehouse is built, `dbt build --select
    # staging.fer+` runs with dbt vars fer_mode and fer_view set to this run's --mode and
    # --view; otherwise `cli.py build` (which uses dbt_project.yml's defaults) builds it.
    from ingest.fer_engines import Engine, LocalEngine, RayEngine
    from ingest.fer_run import run_fer
    from ingest.fer_video import match_corpus_videos
    from signaffect.dbt_runner import run_dbt
    from signaffect.warehouse import connect

    if bool(videos) == (videos_dir is not None):
        raise typer.BadParameter("give either video files or --videos DIR")
    if address is not None and engine is not FerEngine.ray:
        raise typer.BadParameter("--address needs --engine ray")
    try:
        runner: Engine = (
            RayEngine(address, workers) if engine is FerEngine.ray else LocalEngine(workers or 1)
        )
        con = connect(State.db)
        try:
            if videos_dir is not None:
                chosen, missing = match_corpus_videos(con, videos_dir, view)
                if not chosen:
                    raise SignAffectError(
                        f"no {view} media file of the corpus is in {videos_dir} "
                        f"({len(missing)} expected)",
                        "ingest the corpus first (`cli.py ingest PATH`), check --view, and "
                        "keep the media files' names",
                    )
                for name in missing[:FER_WARN_LIMIT]:
                    err.print(f"[yellow]warning:[/yellow] {name}: {view} media file of the "
                              f"corpus not found in {videos_dir}", highlight=False)
                if len(missing) > FER_WARN_LIMIT:
                    err.print(f"[yellow]warning:[/yellow] ... and {len(missing) - FER_WARN_LIMIT}"
                              " more not found", highlight=False)
            else:
                chosen = list(videos or [])
            with progress_bar(State.quiet) as progress:
                summary = run_fer(con, chosen, shards or State.db.parent / "fer-shards",
                                  mode=mode.value, fast_scale=fast_scale,
                                  redetect_every=redetect_every, engine=runner,
                                  progress=progress, force=force)
            built = con.execute(
                "select count(*) from information_schema.tables"
                " where table_schema = 'main' and table_name = 'fct_frames'"
            ).fetchone()
        finally:
            con.close()
        out.print(f"fer ({mode.value}): {summary.processed} processed, {summary.skipped} "
                  f"skipped (already done), {summary.failed} failed")
        for path, error in summary.failures:
            line = error if path in error else f"{path}: {error}"
            err.print(f"[yellow]warning:[/yellow] {line}", highlight=False, soft_wrap=True)
        if built and built[0]:
            with progress_bar(State.quiet) as progress:
                run_dbt("build", State.db, dbt_vars={"fer_mode": mode.value, "fer_view": view},
                        extra_args=["--select", "staging.fer+"], progress=progress)
            out.print(f"built fct_fer_frames in {State.db}")
        else:
            err.print("[dim]hint: the warehouse is not built yet: `cli.py build` (after "
                      "`cli.py ingest` of the corpus) builds fct_fer_frames[/dim]",
                      highlight=False)
        if summary.failed:
            raise SignAffectError(
                f"{summary.failed} video(s) failed; the others were loaded",
                "fix or remove the videos named above and run again (finished videos are skipped)",
            )
    except SignAffectError as exc:
        fail(exc)


if __name__ == "__main__":
    app()
