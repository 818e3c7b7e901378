"""Open the one DuckDB warehouse file, with errors a user can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from signaffect.core.build_state import check_marts
from signaffect.core.errors import NOT_BUILT_HINT, SignAffectError
from signaffect.core.settings import duckdb_config

NOT_OURS_HINT = "pass --db with a SignAffect warehouse, or with a new file to create one"
#: Bytes 8-11 of every DuckDB database file.
DUCKDB_MAGIC = b"DUCK"
#: File signatures of databases users may mistake for a warehouse.
OTHER_FORMATS = {b"SQLite format 3\x00": "an SQLite database file"}
#: Where SignAffect keeps tables, and how its own tables in `main` are named: a DuckDB file
#: with tables and none of these is another application's.
OUR_SCHEMAS = ("raw", "meta", "staging", "intermediate")
OUR_PREFIXES = ("fct_", "dim_", "ml_", "int_", "stg_")
#: File names a warehouse cannot have: DuckDB names the database after the file, and a
#: database named like a schema it holds makes `raw.x` ambiguous; DuckDB keeps the rest.
CLASHING_NAMES = ("main", *OUR_SCHEMAS, "system", "temp", "memory")


def connect(
    path: Path,
    read_only: bool = False,
    create: bool = True,
    config: dict[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a missing file is an error unless a writer may `create` it.

    A file that is not DuckDB's, or another application's DuckDB file, is refused before
    DuckDB writes to it. Other opening errors (lock, corrupt file) reach
    `signaffect.core.failures`, which turns them into one line.
    """
    if (read_only or not create) and not path.exists():
        raise SignAffectError(
            f"no warehouse at {path}",
            "run `cli.py run` (or `cli.py ingest PATH` then `cli.py build`) first, or pass --db",
        )
    if not read_only:
        _check_name(path)
    _check_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = {**duckdb_config(path), **(config or {})}
    con = duckdb.connect(str(path), read_only=read_only, config=settings)
    try:
        _check_ours(con, path)
    except BaseException:
        con.close()
        raise
    return con


def connect_marts(
    path: Path, *, refuse_stale: bool = False, config: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only to read its marts: every read goes through here, so
    every read checks that the marts match the raw data (`signaffect.core.build_state`),
    warning on stderr, or with `refuse_stale` (commands that write results) refusing."""
    con = connect(path, read_only=True, config=config)
    try:
        check_marts(con, path, refuse=refuse_stale)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def kept_open(path: Path) -> Iterator[None]:
    """Keep the warehouse open read-only for a block of many short reads: DuckDB lends a
    file already open in this process to each new connection with the same settings,
    instead of reading its catalog again (NCSLGR, 2 loaded cores: 10 ms a connection
    instead of 80 ms; the report opens 13). Nothing may open the file for writing inside
    the block."""
    con = connect(path, read_only=True)
    try:
        yield
    finally:
        con.close()


def _check_name(path: Path) -> None:
    """Refuse a file name DuckDB cannot use for a warehouse's database, before any write (the
    ingest would fail as ambiguous, or the build half-way)."""
    if path.stem.lower() in CLASHING_NAMES:
        raise SignAffectError(
            f"{path}: a warehouse cannot be named {path.stem!r}: DuckDB names the database "
            f"after the file, and {path.stem!r} is a schema or catalog it uses",
            "pass --db with another file name, e.g. signaffect.duckdb",
        )


def _check_format(path: Path) -> None:
    """Refuse a non-empty file that is not a DuckDB database (DuckDB would try to read it
    with an extension, or overwrite it)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return
    if not head or head[8:12] == DUCKDB_MAGIC:
        return
    kind = next((name for magic, name in OTHER_FORMATS.items() if head.startswith(magic)),
                "not a DuckDB file")
    raise SignAffectError(
        f"{path} looks corrupt or is not a SignAffect warehouse ({kind})", NOT_OURS_HINT
    )


def _check_ours(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a DuckDB file whose tables are all another application's."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database()"
    ).fetchall()
    if not rows or any(
        schema in OUR_SCHEMAS or str(name).startswith(OUR_PREFIXES) for schema, name in rows
    ):
        return
    names = ", ".join(sorted(f"{s}.{n}" for s, n in rows)[:3])
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    raise SignAffectError(
        f"{path} is another application's DuckDB file (tables {names}{more}), not a "
        "SignAffect warehouse; nothing was written",
        NOT_OURS_HINT,
    )


def verify_readable(con: duckdb.DuckDBPyConnection) -> None:
    """Read every row of every table (DuckDB checks each block's checksum as it reads), so
    a damaged file is refused before a command writes to it. ~1 s for an NCSLGR warehouse."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_catalog = current_database()"
    ).fetchall()
    for schema, name in tables:
        con.execute(f'select count(*), sum(hash(t)) from "{schema}"."{name}" as t').fetchall()


def require_built(path: Path, tables: tuple[str, ...]) -> None:
    """Refuse to go on when the marts a command reads are missing (ingested, never built)
    or stale (see `connect_marts`)."""
    con = connect_marts(path, refuse_stale=True)
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
