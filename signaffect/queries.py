"""Read-only SQL over the warehouse and the ways `cli.py` prints results."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pyarrow as pa
from rich.table import Table

from signaffect.errors import SignAffectError
from signaffect.settings import duckdb_config
from signaffect.warehouse import connect

HEADLINE_SQL = """
select
    (select count(*) from stg_signstream__files) as stories,
    (select count(*) from dim_signers) as signers,
    (select count(*) from dim_utterances) as utterances,
    (select count(*) from fct_frames) as frames,
    (select count(*) from fct_frame_features) as frame_features,
    (select count(*) from dim_features) as features
"""


def run_query(db: Path, sql: str) -> pa.Table:
    """Run `sql` on a read-only connection (staging and intermediate schemas on the path)."""
    con = connect(db, read_only=True)
    try:
        con.execute("set search_path = 'main,staging,intermediate,raw'")
        return _fetch(con, sql, "`cli.py status` lists the tables you can query")
    finally:
        con.close()


def run_parquet_query(folder: Path, sql: str) -> pa.Table:
    """Run `sql` over a folder of Parquet files (a `cli.py export`), with no warehouse file.

    Each top-level `<name>.parquet` and each sub-folder of Parquet files (hive-partitioned,
    e.g. `frames/story=*/`) is a view named after it; DuckDB streams them from disk, so the
    folder may be far larger than memory.
    """
    folder = Path(folder)
    views = parquet_views(folder) if folder.is_dir() else {}
    if not views:
        raise SignAffectError(
            f"no Parquet files in {folder}", "pass the folder `cli.py export --out` wrote"
        )
    con = duckdb.connect(config=duckdb_config(None))
    try:
        for name, pattern in views.items():
            literal = pattern.replace("'", "''")  # a view's definition takes no parameters
            con.execute(
                f'create view "{name}" as select * '
                f"from read_parquet('{literal}', hive_partitioning = true)"
            )
        return _fetch(con, sql, f"the views are: {', '.join(views)}")
    finally:
        con.close()


def parquet_views(folder: Path) -> dict[str, str]:
    """View name → read_parquet glob for each Parquet file and partitioned folder in `folder`."""
    views = {path.stem: str(path) for path in sorted(folder.glob("*.parquet"))}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if any(sub.rglob("*.parquet")):
            views[sub.name] = str(sub / "**" / "*.parquet")
    return views


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, hint: str) -> pa.Table:
    try:
        relation = con.sql(sql)
        return relation.to_arrow_table() if relation is not None else pa.table({})
    except duckdb.Error as exc:
        raise SignAffectError(f"query failed: {str(exc).strip().splitlines()[0]}", hint) from None


def table_counts(db: Path) -> pa.Table:
    """Every table and view outside the system schemas, with its row count."""
    con = connect(db, read_only=True)
    try:
        names = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        rows: dict[str, list[object]] = {"schema": [], "table": [], "type": [], "rows": []}
        for schema, table, kind in names:
            (count,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone() or (0,)
            rows["schema"].append(schema)
            rows["table"].append(table)
            rows["type"].append("view" if kind == "VIEW" else "table")
            rows["rows"].append(count)
        return pa.table(rows)
    finally:
        con.close()


def headline_counts(db: Path) -> pa.Table:
    """Stories, signers, utterances, frames and features: what a run produced."""
    return run_query(db, HEADLINE_SQL)


def as_rich_table(table: pa.Table, title: str | None = None) -> Table:
    """A rich table for people at a terminal."""
    view = Table(title=title, show_lines=False)
    for name, dtype in zip(table.column_names, table.schema.types, strict=True):
        numeric = pa.types.is_integer(dtype) or pa.types.is_floating(dtype)
        view.add_column(name, justify="right" if numeric else "left")
    for row in table.to_pylist():
        view.add_row(*(_cell(v) for v in row.values()))
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
    """A JSON array of row objects."""
    return json.dumps(table.to_pylist(), default=str, ensure_ascii=False, indent=1) + "\n"
