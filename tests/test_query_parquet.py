"""`cli.py query --parquet DIR` reads an exported dataset with DuckDB alone: no warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from read.export import export_dataset
from tests.conftest import scalar

runner = CliRunner()


@pytest.fixture(scope="module")
def exported(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("query_parquet") / "dataset"
    return out, export_dataset(sample_db, out)


def test_query_reads_an_export_without_a_warehouse(
    exported: tuple[Path, dict], sample_db: Path, tmp_path: Path
) -> None:
    out, rows = exported
    nowhere = tmp_path / "no-warehouse.duckdb"
    sql = (
        "select (select count(*) from frames) as frames,"
        " (select count(*) from frame_features) as frame_features,"
        " (select count(*) from lexical_labels) as lexical_labels,"
        " (select count(distinct story) from frames) as stories"
    )
    result = runner.invoke(
        app, ["--db", str(nowhere), "query", sql, "--parquet", str(out), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    (got,) = json.loads(result.stdout)
    assert {k: got[k] for k in ("frames", "frame_features", "lexical_labels")} == {
        k: rows[k] for k in ("frames", "frame_features", "lexical_labels")
    }
    assert got["stories"] == scalar(sample_db, "select count(distinct story) from fct_frames")
    assert not nowhere.exists()


def test_query_on_a_folder_without_parquet_is_one_error_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", "select 1", "--parquet", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no Parquet files in")
    assert "Traceback" not in result.output
