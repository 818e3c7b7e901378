"""Open the one DuckDB warehouse file, with errors a user can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from signaffect.core.errors import SignAffectError
from signaffect.core.settings import duckdb_config

NOT_BUILT_HINT = "run `cli.py build` (or `cli.py run`) to build the warehouse first"


def connect(
    path: Path,
    read_only: bool = False,
    create: bool = True,
    config: dict[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a missing file is an error unless a writer may `create` it.

    Opening errors (lock, corrupt or foreign file) reach `signaffect.core.failures`, which turns
    them into one line.
    """
    if (read_only or not create) and not path.exists():
        raise SignAffectError(
            f"no warehouse at {path}",
            "run `cli.py run` (or `cli.py ingest PATH` then `cli.py build`) first, or pass --db",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = {**duckdb_config(path), **(config or {})}
    return duckdb.connect(str(path), read_only=read_only, config=settings)


def require_built(path: Path, tables: tuple[str, ...]) -> None:
    """Refuse to go on when the marts a command reads are missing (ingested, never built)."""
    con = connect(path, read_only=True)
    try:
        missing = [t for t in tables if not table_exists(con, "main", t)]
    finally:
        con.close()
    if missing:
        raise SignAffectError(f"{path} is not built (no {', '.join(missing)})", NOT_BUILT_HINT)


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """Whether `schema.name` is a table or view of the open warehouse."""
    rows = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(rows[0][0])
