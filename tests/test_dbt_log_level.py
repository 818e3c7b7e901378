"""dbt's file log records nodes and errors by default and every SQL statement only when asked
(`SIGNAFFECT_DBT_LOG_LEVEL`, `cli.py --debug`): writing every statement was ~5% of a build."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from signaffect.core import dbt_runner
from signaffect.core.build_state import read_record
from signaffect.core.errors import SignAffectError
from signaffect.core.settings import DEFAULT_DBT_LOG_LEVEL
from signaffect.core.warehouse import connect


def _file_level(db: Path) -> str:
    args = dbt_runner._dbt_args("build", db, None)
    return args[args.index("--log-level-file") + 1]


def test_the_file_log_is_at_info_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIGNAFFECT_DBT_LOG_LEVEL", raising=False)
    assert DEFAULT_DBT_LOG_LEVEL == "info"
    assert _file_level(tmp_path / "w.duckdb") == "info"
    monkeypatch.setenv("SIGNAFFECT_DBT_LOG_LEVEL", "DEBUG")
    assert _file_level(tmp_path / "w.duckdb") == "debug"


def test_a_wrong_level_is_one_line_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNAFFECT_DBT_LOG_LEVEL", "loud")
    with pytest.raises(SignAffectError, match="SIGNAFFECT_DBT_LOG_LEVEL=loud") as raised:
        dbt_runner._dbt_args("build", tmp_path / "w.duckdb", None)
    assert "debug, info, warn, error" in str(raised.value.hint)


def test_cli_debug_asks_dbt_for_every_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Recorded first, so that the value the CLI sets is undone after the test.
    monkeypatch.setenv("SIGNAFFECT_DBT_LOG_LEVEL", "info")
    monkeypatch.delenv("SIGNAFFECT_DBT_LOG_LEVEL")
    db = tmp_path / "w.duckdb"
    CliRunner().invoke(app, ["--db", str(db), "status"])
    assert "SIGNAFFECT_DBT_LOG_LEVEL" not in os.environ
    CliRunner().invoke(app, ["--debug", "--db", str(db), "status"])
    assert os.environ.get("SIGNAFFECT_DBT_LOG_LEVEL") == "debug"
    assert _file_level(db) == "debug"


def test_a_wrong_level_leaves_the_last_build_as_it_was(
    sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(sample_db, db)
    monkeypatch.setenv("SIGNAFFECT_DBT_LOG_LEVEL", "loud")
    result = CliRunner().invoke(app, ["--db", str(db), "build", "--force"])
    assert result.exit_code == 1
    assert "SIGNAFFECT_DBT_LOG_LEVEL=loud" in result.output
    assert "Traceback" not in result.output
    with connect(db, read_only=True) as con:
        record = read_record(con)
    assert record is not None and record.state == "built"
