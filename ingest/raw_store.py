"""Write Arrow tables into DuckDB schema `raw`, replacing a source file's rows atomically.

Every ingestor funnels through `replace_source_rows`: one transaction deletes the rows of
the files being (re)loaded and inserts the new ones, so re-ingest never duplicates and a
failure rolls back to the warehouse as it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import pyarrow as pa

from signaffect.core.errors import SignAffectError
from signaffect.core.failpoints import failpoint

if TYPE_CHECKING:  # only for annotations: the FER analysis imports this and stays lighter
    import duckdb

RAW_SCHEMA = "raw"

_DUCKDB_TYPES = {
    pa.string(): "varchar",
    pa.int64(): "bigint",
    pa.int32(): "integer",
    pa.float64(): "double",
    pa.float32(): "float",
    pa.bool_(): "boolean",
}


def _column_type(dtype: pa.DataType) -> str:
    try:
        return _DUCKDB_TYPES[dtype]
    except KeyError:
        raise TypeError(f"no DuckDB type mapped for Arrow type {dtype}") from None


def ensure_table(con: duckdb.DuckDBPyConnection, name: str, schema: pa.Schema) -> None:
    """Create `raw.<name>` from an Arrow schema if it does not exist yet; refuse a table of
    that name which lacks some of the columns (a foreign or older DuckDB file)."""
    columns = ", ".join(f'"{f.name}" {_column_type(f.type)}' for f in schema)
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(f"create table if not exists {RAW_SCHEMA}.{name} ({columns})")
    present = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [RAW_SCHEMA, name],
        ).fetchall()
    }
    missing = [f.name for f in schema if f.name not in present]
    if missing:
        raise SignAffectError(
            f"table {RAW_SCHEMA}.{name} of this warehouse has no column(s) {', '.join(missing)}: "
            "it was not written by this version of SignAffect",
            "pass --db with a new file (`cli.py run` rebuilds everything from the corpus)",
        )


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit what the block wrote, or roll all of it back on any error."""
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException:
        # A failed commit (disk full) has already ended the transaction; the rollback's own
        # "no transaction is active" must not hide the cause.
        with suppress(Exception):
            con.execute("rollback")
        raise


def insert_arrow(con: duckdb.DuckDBPyConnection, target: str, table: pa.Table) -> None:
    """Insert a whole Arrow table into `target` by column name (never row by row)."""
    view = f"_incoming_{target.replace('.', '_')}"
    con.register(view, table)
    try:
        con.execute(f"insert into {target} by name select * from {view}")
    finally:
        con.unregister(view)


def replace_source_rows(
    con: duckdb.DuckDBPyConnection,
    tables: Mapping[str, pa.Table],
    source_files: Sequence[str],
    key_column: str = "source_file",
) -> None:
    """In one transaction, drop the rows of `source_files` from each table and insert `tables`."""
    for name, table in tables.items():
        ensure_table(con, name, table.schema)
    with transaction(con):
        for name, table in tables.items():
            con.execute(
                f"delete from {RAW_SCHEMA}.{name} where {key_column} in (select unnest(?))",
                [list(source_files)],
            )
            if table.num_rows:
                insert_arrow(con, f"{RAW_SCHEMA}.{name}", table)
        failpoint("ingest.commit")
