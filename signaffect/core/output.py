"""How results reach the user: consoles, and one table printed as a table, CSV or JSON.

Scripts read stdout, so it is trustworthy: data is printed verbatim (never read as rich
markup), table columns are not cut when stdout is a pipe, JSON is valid (NaN and
infinities become null), and a huge table is shown up to a limit with a note on stderr
pointing at CSV, which is never limited.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from enum import Enum

import pyarrow as pa
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.table import Table
from rich.text import Text

#: Width of stdout when it is not a terminal: wide enough that no column is ever cut.
PIPE_WIDTH = 100_000
#: Most rows printed as a table; CSV and JSON print them all.
TABLE_ROW_LIMIT = 1_000


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class DataConsole(Console):
    """stdout: no markup or highlighting of data, and no width limit when piped."""

    def __init__(self) -> None:
        super().__init__(markup=False, highlight=False)

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        return size if self.is_terminal else ConsoleDimensions(PIPE_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


out = DataConsole()
err = Console(stderr=True, highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    """A warning line on stderr; `message` is shown verbatim."""
    err.print(f"[yellow]warning:[/yellow] {escape(message)}")


def note(message: str) -> None:
    """A dim note on stderr; `message` is shown verbatim."""
    err.print(f"[dim]{escape(message)}[/dim]")


def emit(table: pa.Table, fmt: OutputFormat = OutputFormat.table, title: str | None = None) -> None:
    """Print `table` on stdout in `fmt`."""
    if fmt is OutputFormat.csv:
        sys.stdout.write(as_csv(table))
    elif fmt is OutputFormat.json:
        sys.stdout.write(as_json(table))
    else:
        shown = table.slice(0, TABLE_ROW_LIMIT)
        out.print(as_rich_table(shown, title))
        if shown.num_rows < table.num_rows:
            note(
                f"showing {shown.num_rows:,} of {table.num_rows:,} rows; "
                "use --format csv (or json) for all of them"
            )


def as_rich_table(table: pa.Table, title: str | None = None) -> Table:
    """A rich table for people at a terminal; cells are plain text, never markup."""
    view = Table(title=Text(title) if title else None, show_lines=False)
    for name, dtype in zip(table.column_names, table.schema.types, strict=True):
        numeric = pa.types.is_integer(dtype) or pa.types.is_floating(dtype)
        view.add_column(Text(name), justify="right" if numeric else "left")
    for row in table.to_pylist():
        view.add_row(*(Text(_cell(v)) for v in row.values()))
    return view


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def as_csv(table: pa.Table) -> str:
    """CSV with a header row, for spreadsheets and scripts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow(["" if v is None else v for v in row.values()])
    return buffer.getvalue()


def as_json(table: pa.Table) -> str:
    """A JSON array of row objects; NaN and infinities (not JSON) become null."""
    rows = [{k: _json_value(v) for k, v in row.items()} for row in table.to_pylist()]
    return json.dumps(rows, default=str, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def _json_value(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value
