"""The statistics model reuses its table while the rows and settings it reads are unchanged,
and recomputes when either changes (signaffect.core.model_cache)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from signaffect.core.dbt_runner import run_dbt
from signaffect.core.model_cache import FINGERPRINT_COLUMN, reuse_or_compute
from signaffect.stats import association_model
from tests.conftest import TEST_DBT_VARS, rows


class This(SimpleNamespace):
    def __repr__(self) -> str:
        return "main.result"


def build(con: duckdb.DuckDBPyConnection, units: pa.Table, settings: object) -> list[int]:
    """One run of a model over `units` as dbt-duckdb runs it (the result replaces the
    table); returns how many times it computed."""
    calls: list[int] = []

    def compute(units: pa.Table) -> pa.Table:
        calls.append(1)
        return pa.table({"n": [units.num_rows]})

    dbt = SimpleNamespace(this=This(database="memory", schema="main", identifier="result"))
    output = reuse_or_compute(dbt, con, {"units": con.from_arrow(units)}, settings, compute)
    con.register("model_output", output)
    con.execute("create or replace table main.fresh as select * from model_output")
    con.unregister("model_output")
    con.execute("create or replace table main.result as select * from main.fresh")
    return calls


def test_unchanged_inputs_reuse_the_table_and_any_change_recomputes() -> None:
    con = duckdb.connect()
    units = pa.table({"unit": ["a", "b", "c"], "labels": [["x"], [], ["x", "y"]]})
    assert build(con, units, {"resamples": 10}) == [1]
    assert build(con, units, {"resamples": 10}) == []
    assert build(con, units.take([2, 0, 1]), {"resamples": 10}) == [], "row order is no change"
    assert build(con, units.slice(1), {"resamples": 10}) == [1]
    assert build(con, units.slice(1), {"resamples": 11}) == [1]
    keys = con.execute(f"select distinct {FINGERPRINT_COLUMN} from main.result").fetchall()
    assert len(keys) == 1 and len(keys[0][0]) == 64


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the statistics computations of dbt builds in this process."""
    counted: list[int] = []
    compute = association_model.statistics

    def counting(*args: Any) -> pa.Table:
        counted.append(1)
        return compute(*args)

    monkeypatch.setattr(association_model, "statistics", counting)
    return counted


def test_a_second_build_does_not_redo_the_bootstrap(
    sample_db: Path, tmp_path: Path, calls: list[int]
) -> None:
    db = tmp_path / sample_db.name  # same file name: the same compiled model
    shutil.copy(sample_db, db)
    select = ["--select", "fct_label_feature_statistics+"]
    before = rows(db, "select * from fct_label_feature_associations order by all")
    run_dbt("build", db, TEST_DBT_VARS, select)
    assert calls == []
    assert rows(db, "select * from fct_label_feature_associations order by all") == before
    run_dbt("build", db, {**TEST_DBT_VARS, "association_resamples": 100}, select)
    assert calls == [1]
    assert rows(db, "select distinct n_resamples from fct_label_feature_associations") == [(100,)]
