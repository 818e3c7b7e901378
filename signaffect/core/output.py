"""How results reach the user: consoles, and one table printed as a table, CSV or JSON.

Scripts read stdout, so it is trustworthy: data is printed verbatim (never read as rich
markup; a table's numbers as CSV writes them), table columns are not cut when stdout is a
pipe, CSV quotes every line break, JSON is valid (NaN and infinities become null) and keeps
every column (a repeated name gets a suffix), and a huge table is shown up to a limit with
a note on stderr pointing at CSV, which is never limited.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from enum import Enum
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # every command loads this module; a table brings pyarrow with it
    import pyarrow as pa

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
    from pyarrow import types

    view = Table(title=Text(title) if title else None, show_lines=False)
    for name, dtype in zip(table.column_names, table.schema.types, strict=True):
        numeric = types.is_integer(dtype) or types.is_floating(dtype)
        view.add_column(Text(name), justify="right" if numeric else "left")
    for row in _row_values(table):
        view.add_row(*(Text(_cell(v)) for v in row))
    return view


def _cell(value: object) -> str:
    """A value as CSV writes it (180999.0, never 1.81e+05): what the table shows is the data."""
    return "" if value is None else str(value)


class _Rows:
    """Where `csv.writer` writes, one whole row per call: each row ends in CRLF, so that the
    writer quotes a value with a bare CR (it quotes the terminator's characters), and
    leaves as LF."""

    def __init__(self) -> None:
        self.rows: list[str] = []

    def write(self, row: str) -> None:
        self.rows.append(row.removesuffix("\r\n") + "\n")


def as_csv(table: pa.Table) -> str:
    """CSV with a header row, for spreadsheets and scripts; a value holding a line break
    (CR, LF or both) is quoted."""
    sink = _Rows()
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(table.column_names)
    for row in _row_values(table):
        writer.writerow(["" if v is None else v for v in row])
    return "".join(sink.rows)


def as_json(table: pa.Table) -> str:
    """A JSON array of row objects; NaN and infinities (not JSON) become null, and a column
    name that repeats is renamed (`a`, `a_2`) with a note, so no column is lost."""
    names = unique_names(table.column_names)
    if names != table.column_names:
        renamed = [f"{old} -> {new}" for old, new in zip(table.column_names, names, strict=True)
                   if old != new]  # fmt: skip
        note(f"repeated column names renamed in the JSON: {', '.join(renamed)}")
    rows = [dict(zip(names, map(_json_value, row), strict=True)) for row in _row_values(table)]
    return json.dumps(rows, default=str, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def unique_names(names: list[str]) -> list[str]:
    """`names` with each repeat given the first free suffix: a, a -> a, a_2."""
    taken = set(names)
    result: list[str] = []
    for position, name in enumerate(names):
        if name in names[:position]:
            suffix = 2
            while f"{name}_{suffix}" in taken:
                suffix += 1
            name = f"{name}_{suffix}"
            taken.add(name)
        result.append(name)
    return result


def _row_values(table: pa.Table) -> list[tuple[object, ...]]:
    """Each row's values by position (`to_pylist` keys rows by name: a repeated name loses
    a column)."""
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


def _json_value(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value
