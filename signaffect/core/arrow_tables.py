"""Arrow tables into DuckDB: the one type map, table creation from an Arrow schema, the one
transaction and the one whole-table insert. Ingest (raw) and ml (ml_*) both write through it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import pyarrow as pa

from signaffect.core.errors import SignAffectError

if TYPE_CHECKING:  # only for annotations: FER workers import this and stay light
    import duckdb

#: Arrow type → DuckDB column type, for every type a SignAffect table stores.
DUCKDB_TYPES = {
    pa.string(): "varchar",
    pa.int64(): "bigint",
    pa.int32(): "integer",
    pa.float64(): "double",
    pa.float32(): "float",
    pa.bool_(): "boolean",
    pa.timestamp("us", tz="UTC"): "timestamptz",
    pa.map_(pa.string(), pa.float32()): "map(varchar, float)",
    pa.list_(pa.float32()): "float[]",
}


def column_type(dtype: pa.DataType) -> str:
    """The DuckDB type of an Arrow column; a TypeError names a type with no mapping."""
    try:
        return DUCKDB_TYPES[dtype]
    except KeyError:
        raise TypeError(f"no DuckDB type mapped for Arrow type {dtype}") from None


def ensure_table(
    con: duckdb.DuckDBPyConnection, schema_name: str, name: str, schema: pa.Schema
) -> None:
    """Create `schema_name.name` from an Arrow schema if it does not exist yet; refuse a table
    of that name which lacks some of the columns (a foreign or older DuckDB file)."""
    columns = ", ".join(f'"{f.name}" {column_type(f.type)}' for f in schema)
    con.execute(f"create schema if not exists {schema_name}")
    con.execute(f"create table if not exists {schema_name}.{name} ({columns})")
    present = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema_name, name],
        ).fetchall()
    }
    missing = [f.name for f in schema if f.name not in present]
    if missing:
        raise SignAffectError(
            f"table {schema_name}.{name} of this warehouse has no column(s) "
            f"{', '.join(missing)}: it was not written by this version of SignAffect",
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
