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
) -> None:
    """Load SignStream XML files and their lexicon hits into schema raw (all files or none)."""
    from signaffect.pipeline import ingest_corpus

    try:
        with progress_bar(State.quiet) as progress:
            summary = ingest_corpus(
                State.db, paths, progress, lexicons=lexicons, liwc_dic=liwc_dic
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


@app.command(epilog='Example: cli.py query "select count(*) from fct_frames" --format csv')
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run against the warehouse (read-only).")],
    format: Annotated[OutputFormat, typer.Option(help="Output format.")] = OutputFormat.table,
) -> None:
    """Run ad hoc SQL over the warehouse and print the result."""
    try:
        result = queries.run_query(State.db, sql)
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


@app.command(epilog="Example: cli.py run   (the bundled sample corpus)\n\n"
             "Example: cli.py run ../shared/ncslgr-xml")
def run(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Corpus files or folders. Default: the bundled sample corpus."),
    ] = None,
    lexicons: LexiconsOption = True,
    liwc_dic: LiwcOption = None,
) -> None:
    """The main job: ingest a corpus (default: the bundled sample) and build the warehouse."""
    from signaffect.pipeline import build_warehouse, ingest_corpus

    corpus = paths or [SAMPLE_CORPUS_DIR]
    try:
        with progress_bar(State.quiet) as progress:
            summary = ingest_corpus(
                State.db, corpus, progress, lexicons=lexicons, liwc_dic=liwc_dic
            )
            build_warehouse(State.db, progress)
        counts = queries.headline_counts(State.db)
    except SignAffectError as exc:
        fail(exc)
        return
    print_ingest_summary(summary)
    out.print(f"built {State.db}")
    out.print(queries.as_rich_table(counts))


if __name__ == "__main__":
    app()
