"""`cli.py status`: what the warehouse holds (every table and view with its rows, the corpus
files in raw), whether the marts were built from that raw data, and the settings they were
built with.

Why here: status is a read like any other; it is the one read that also describes the layers
below the marts (by name and count, and the corpus files through `core.build_state`, which
owns what raw held when the marts were built), because it says whether the marts are current.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import duckdb
import pyarrow as pa

from signaffect.core.build_settings import BuildSettings
from signaffect.core.build_state import corpus_files, describe_state
from signaffect.core.warehouse import connect, table_exists

#: The one-row mart of every dbt var the last build used.
SETTINGS_MART = "dim_build_settings"


@dataclass(frozen=True)
class WarehouseStatus:
    """Tables and views with their rows, the corpus files, the marts' state and settings."""

    tables: pa.Table
    files: pa.Table
    marts: str
    settings: str


def warehouse_status(db: Path) -> WarehouseStatus:
    """Everything `cli.py status` prints, read on one read-only connection."""
    con = connect(db, read_only=True)
    try:
        return WarehouseStatus(_table_counts(con), corpus_files(con), describe_state(con),
                               _settings(con))
    finally:
        con.close()


def settings_line(db: Path) -> str:
    """One line: the settings of the last build (`cli.py build` prints it after building)."""
    con = connect(db, read_only=True)
    try:
        return _settings(con)
    finally:
        con.close()


def _settings(con: duckdb.DuckDBPyConnection) -> str:
    """The main settings (`BuildSettings`' fields) of the last build that finished, from
    `dim_build_settings`."""
    if not table_exists(con, "main", SETTINGS_MART):
        return "settings of the last build: not recorded (no build yet, or one before they were)"
    names = [f.name for f in fields(BuildSettings)]
    row = con.execute(f"select {', '.join(names)} from {SETTINGS_MART}").fetchone() or ()
    shown = ", ".join(f"{name} {value}" for name, value in zip(names, row, strict=False))
    return f"settings of the last build: {shown}"


def _table_counts(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Every table and view outside the system schemas, with its row count."""
    names = con.execute(
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_catalog = current_database() order by 1, 2"
    ).fetchall()
    rows: dict[str, list[object]] = {"schema": [], "table": [], "type": [], "rows": []}
    for schema, table, kind in names:
        (count,) = con.execute(
            f'select count(*) from "{schema}"."{table}"'
        ).fetchone() or (0,)
        rows["schema"].append(schema)
        rows["table"].append(table)
        rows["type"].append("view" if kind == "VIEW" else "table")
        rows["rows"].append(count)
    return pa.table(rows)
