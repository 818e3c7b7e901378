"""Read-only SQL over the warehouse: ad hoc queries and the headline counts.

`cli.py query` runs one SELECT (with WITH, FROM-first, VALUES, TABLE, DESCRIBE, SHOW or
SUMMARIZE) and nothing else: on a read-only connection DuckDB cannot change the warehouse,
but COPY, EXPORT, ATTACH, INSTALL/LOAD and SET could still write files anywhere or change
the session, so every other statement type is refused before anything runs, and extensions
are never installed or loaded behind the user's back (`signaffect.core.settings`). Reading
files the user names (`read_parquet('x.parquet')`) stays allowed. With `--parquet DIR`, the
folder's files become views through DuckDB's relation API: their paths are values, never
spliced into SQL text, and are listed here rather than globbed, so quotes, semicolons and
glob characters in names are just characters.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from signaffect.core.errors import SignAffectError
from signaffect.core.failures import from_text
from signaffect.core.settings import duckdb_config
from signaffect.core.warehouse import connect_marts

#: Schemas on `query`'s search path, in this order, when they exist (raw exists before any
#: build, so `query` works from the first ingest on).
SEARCH_PATH = ("main", "staging", "intermediate", "raw")

#: What a run produced, from the marts: the one definition the CLI and the report share. A
#: story is an ingested file (`dim_source_files`), whether or not it has frames.
HEADLINE_SQL = """
select
    (select count(*) from dim_source_files) as stories,
    (select count(*) from dim_signers) as signers,
    (select count(*) from dim_utterances) as utterances,
    (select count(*) from fct_frames) as frames,
    (select count(*) from fct_frame_features) as frame_features,
    (select count(*) from dim_features) as features
"""


def run_query(db: Path, sql: str) -> pa.Table:
    """Run one SELECT on a read-only connection, with every existing schema on the path."""
    con = connect_marts(db)
    try:
        check_read_only_statement(con, sql)
        schemas = {
            row[0]
            for row in con.execute(
                "select schema_name from information_schema.schemata "
                "where catalog_name = current_database()"
            ).fetchall()
        }
        path = ",".join(s for s in SEARCH_PATH if s in schemas)
        con.execute(f"set search_path = '{path}'")
        return _fetch(con, sql, "`cli.py status` lists the tables you can query", str(db))
    finally:
        con.close()


def run_parquet_query(folder: Path, sql: str) -> pa.Table:
    """Run `sql` over a folder of Parquet files (a `cli.py export`), with no warehouse file.

    Each top-level `<name>.parquet` and each sub-folder of Parquet files (hive-partitioned,
    e.g. `frames/story=<story>/`) is a view named after it; DuckDB streams them from disk,
    so the folder may be far larger than memory.
    """
    folder = Path(folder)
    views = parquet_views(folder) if folder.is_dir() else {}
    if not views:
        raise SignAffectError(
            f"no Parquet files in {folder}", "pass the folder `cli.py export --out` wrote"
        )
    con = duckdb.connect(config=duckdb_config(None))
    try:
        check_read_only_statement(con, sql)
        for name, files in views.items():
            con.read_parquet(files, hive_partitioning=True).create_view(name)
        return _fetch(con, sql, f"the views are: {', '.join(views)}", str(folder))
    finally:
        con.close()


def parquet_views(folder: Path) -> dict[str, list[str]]:
    """View name → its Parquet files, for each Parquet file and partitioned folder in
    `folder` (the files are listed, in order, so that no name is read as a glob)."""
    views = {path.stem: [str(path)] for path in sorted(folder.glob("*.parquet"))}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = sorted(str(p) for p in sub.rglob("*.parquet") if p.is_file())
        if files:
            views[sub.name] = files
    return views


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, hint: str, where: str) -> pa.Table:
    try:
        relation = con.sql(sql)
        return relation.to_arrow_table() if relation is not None else pa.table({})
    except duckdb.Error as exc:
        if from_text(str(exc), "query", where) is not None:
            raise  # memory, disk, lock: not the SQL's fault (signaffect.core.failures says so)
        raise SignAffectError(f"query failed: {str(exc).strip().splitlines()[0]}", hint) from None


def check_read_only_statement(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but exactly one SELECT statement (see the module docstring)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise SignAffectError(
            f"query failed: {str(exc).strip().splitlines()[0]}", "check the SQL syntax"
        ) from None
    if len(statements) != 1:
        raise SignAffectError(
            f"query takes one statement, not {len(statements)}",
            "run each statement on its own (`cli.py query` shows one result)",
        )
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise SignAffectError(
            f"query only reads: {kind.name} statements are refused",
            "use SELECT (or WITH, DESCRIBE, SHOW, SUMMARIZE); to write files use `cli.py export`",
        )


def headline_counts(db: Path) -> pa.Table:
    """Stories, signers, utterances, frames and features: what a run produced."""
    return run_query(db, HEADLINE_SQL)
