"""Looking into the warehouse: `query` (one read-only SELECT) and `status`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.common import FormatOption, State, print_lines
from signaffect.core.output import OutputFormat, emit

app = typer.Typer()

@app.command(
    epilog='Example: cli.py query "select count(*) from fct_frames" --format csv\n\n'
    'Example: cli.py query "select story, count(*) from frames group by 1" --parquet export/'
)
def query(
    sql: Annotated[
        str, typer.Argument(help="One SELECT (or WITH, DESCRIBE, SHOW) over the warehouse.")
    ],
    format: FormatOption = OutputFormat.table,
    parquet: Annotated[
        Path | None,
        typer.Option(help="Query a `cli.py export` folder instead of the warehouse: each "
                     "Parquet file and partitioned folder is a view (frames, frame_features, "
                     "...).", show_default=False),
    ] = None,
) -> None:
    """Run one read-only SELECT over the warehouse (or an exported Parquet dataset) and print
    the result (other statements, which could write files, are refused)."""
    from read import queries

    result = (
        queries.run_parquet_query(parquet, sql)
        if parquet is not None
        else queries.run_query(State.db, sql)
    )
    emit(result, format)


@app.command(epilog="Example: cli.py status")
def status() -> None:
    """List the warehouse's tables and views with their row counts, the corpus files loaded
    with their SHA-256 content hashes, whether the marts were built from them, and the
    settings of the last build (frame convention, lexical scope, ...)."""
    from read.status import warehouse_status

    found = warehouse_status(State.db)
    emit(found.tables)
    emit(found.files, title="corpus files")
    print_lines([found.marts, found.settings])
