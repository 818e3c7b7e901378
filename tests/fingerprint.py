"""A fingerprint of a warehouse's tables: per table its columns, row count and an
order-insensitive hash of its rows, so two warehouses compare equal exactly when every table
holds the same rows (in any physical order)."""

from __future__ import annotations

from pathlib import Path

import duckdb

Fingerprint = dict[str, tuple[str, int, int]]

#: Floating-point types, hashed as text to ten significant digits in a portable fingerprint:
#: another CPU's vector code may differ in the last bits, which is not a change of result.
_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


def _row_expression(con: duckdb.DuckDBPyConnection, schema: str, table: str, portable: bool) -> str:
    """What one row hashes as: the row itself, or in a portable fingerprint each float column
    printed to ten significant digits."""
    if not portable:
        return "t"
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    parts = [
        f"printf('%.9e', t.\"{name}\")" if kind in _FLOAT_TYPES else f't."{name}"'
        for name, kind in columns
    ]
    return f"row({', '.join(parts)})"


def fingerprint(
    db: Path,
    schemas: tuple[str, ...] = ("main", "raw"),
    *,
    portable: bool = False,
    tables: tuple[str, ...] | None = None,
) -> Fingerprint:
    """`schema.table` → (column names and types, rows, sum of row hashes) for every base
    table in `schemas` (or just `tables`); views are left out (they are functions of the
    tables). `portable` hashes floats to ten significant digits, for comparing across machines."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in (select unnest(?)) "
            "order by 1, 2",
            [list(schemas)],
        ).fetchall()
        result: Fingerprint = {}
        for schema, table in found:
            if tables is not None and table not in tables:
                continue
            columns = con.execute(
                "select string_agg(column_name || ' ' || data_type, ', ' order by ordinal_position)"
                " from information_schema.columns where table_schema = ? and table_name = ?",
                [schema, table],
            ).fetchall()[0][0]
            row = _row_expression(con, schema, table, portable)
            rows, digest = con.execute(
                f"select count(*), coalesce(sum(hash({row})::hugeint), 0)::varchar "
                f'from "{schema}"."{table}" as t'
            ).fetchall()[0]
            result[f"{schema}.{table}"] = (str(columns), int(rows), int(digest))
        return result
    finally:
        con.close()
