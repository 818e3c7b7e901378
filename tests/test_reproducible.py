"""Every mart is a deterministic function of raw: rebuilding from the same raw rows, stored
in another physical order, gives the same rows in every table of schema main."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.corpus import build_warehouse, ingest_corpus
from signaffect.core.settings import SAMPLE_CORPUS_DIR
from tests.conftest import TEST_DBT_VARS
from tests.fingerprint import fingerprint


def _shuffle_raw(db: Path) -> None:
    """Rewrite every raw table in another row order (same rows): scans, joins and
    aggregates then meet the rows in another order, as after a re-ingest."""
    con = duckdb.connect(str(db))
    try:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
        for (table,) in tables:
            con.execute(
                f"create table raw._shuffled as select * from raw.{table} as t order by hash(t)"
            )
            con.execute(f"drop table raw.{table}")
            con.execute(f"alter table raw._shuffled rename to {table}")
    finally:
        con.close()


def test_two_builds_of_the_sample_are_identical(sample_db: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.duckdb"
    ingest_corpus(again, [SAMPLE_CORPUS_DIR])
    _shuffle_raw(again)
    build_warehouse(again, dbt_vars=TEST_DBT_VARS)
    first, second = fingerprint(sample_db, ("main",)), fingerprint(again, ("main",))
    assert "main.dim_features" in first
    differing = sorted(t for t in first.keys() | second.keys() if first.get(t) != second.get(t))
    assert differing == []
