"""A fingerprint of a warehouse's tables: per table its columns, row count and an
order-insensitive hash of its rows, so two warehouses compare equal exactly when every table
holds the same rows (in any physical order)."""

from __future__ import annotations

from pathlib import Path

import duckdb

Fingerprint = dict[str, tuple[str, int, int]]


def fingerprint(db: Path, schemas: tuple[str, ...] = ("main", "raw")) -> Fingerprint:
    """`schema.table` → (column names and types, rows, sum of row hashes) for every base
    table in `schemas`; views are left out (they are functions of the tables)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in (select unnest(?)) "
            "order by 1, 2",
            [list(schemas)],
        ).fetchall()
        result: Fingerprint = {}
        for schema, table in tables:
            columns = con.execute(
                "select string_agg(column_name || ' ' || data_type, ', ' order by ordinal_position)"
                " from information_schema.columns where table_schema = ? and table_name = ?",
                [schema, table],
            ).fetchall()[0][0]
            rows, digest = con.execute(
                f'select count(*), coalesce(sum(hash(t)::hugeint), 0)::varchar '
                f'from "{schema}"."{table}" as t'
            ).fetchall()[0]
            result[f"{schema}.{table}"] = (str(columns), int(rows), int(digest))
        return result
    finally:
        con.close()
