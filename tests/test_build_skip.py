"""A build with nothing changed runs no dbt; any change to the raw rows, the vars or the
project's code (or --force) runs it (signaffect.core.project_code, build_state)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline import builds
from pipeline.corpus import build_warehouse
from signaffect.core import project_code
from signaffect.core.build_state import read_record
from tests.conftest import TEST_DBT_VARS


@pytest.fixture
def copy(sample_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "w.duckdb"
    shutil.copy(sample_db, db)
    return db


@pytest.fixture
def dbt_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each run_dbt call the build makes (dbt itself is not run: the marts stay as built)."""
    calls: list[dict[str, Any]] = []

    def fake(command: str, db: Path, dbt_vars: dict[str, Any] | None = None,
             **kwargs: Any) -> int:
        calls.append(dict(dbt_vars or {}))
        return 1

    monkeypatch.setattr(builds, "run_dbt", fake)
    return calls


def _state(db: Path) -> tuple[str, str | None]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        record = read_record(con)
    finally:
        con.close()
    assert record is not None
    return record.state, record.code


def test_nothing_changed_runs_no_dbt(copy: Path, dbt_runs: list[dict[str, Any]]) -> None:
    before = _state(copy)
    assert before == ("built", project_code.project_code_fingerprint())
    assert build_warehouse(copy, dbt_vars=TEST_DBT_VARS) is False
    assert dbt_runs == [] and _state(copy) == before
    assert build_warehouse(copy, dbt_vars=TEST_DBT_VARS, force=True) is True
    assert dbt_runs == [TEST_DBT_VARS]


def test_other_vars_run_dbt(copy: Path, dbt_runs: list[dict[str, Any]]) -> None:
    assert build_warehouse(copy, dbt_vars={**TEST_DBT_VARS, "lexical_min_frames": 5})
    assert len(dbt_runs) == 1


def test_changed_raw_rows_run_dbt(copy: Path, dbt_runs: list[dict[str, Any]]) -> None:
    con = duckdb.connect(str(copy))
    con.execute("delete from raw.signstream_annotations where rowid = 0")
    con.close()
    assert build_warehouse(copy, dbt_vars=TEST_DBT_VARS)
    assert len(dbt_runs) == 1


def test_changed_code_runs_dbt(
    copy: Path, dbt_runs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builds, "project_code_fingerprint", lambda: "edited")
    assert build_warehouse(copy, dbt_vars=TEST_DBT_VARS)
    assert len(dbt_runs) == 1 and _state(copy) == ("built", "edited")


def test_a_failed_build_is_not_skipped(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("dbt failed")

    monkeypatch.setattr(builds, "run_dbt", fail)
    with pytest.raises(RuntimeError):
        build_warehouse(copy, dbt_vars=TEST_DBT_VARS, force=True)
    with pytest.raises(RuntimeError):
        build_warehouse(copy, dbt_vars=TEST_DBT_VARS)


def test_a_partial_build_under_other_code_forgets_the_code(
    copy: Path, dbt_runs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = _state(copy)[1]
    builds.recorded_build(copy, None, None, ["--select", "ml_frame_matrix"], partial_tables=())
    assert _state(copy) == ("built", code)
    monkeypatch.setattr(builds, "project_code_fingerprint", lambda: "edited")
    builds.recorded_build(copy, None, None, ["--select", "ml_frame_matrix"], partial_tables=())
    assert _state(copy) == ("built", None)


def test_the_code_fingerprint_follows_every_project_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("dbt_project.yml", "models/m.sql", "macros/x.sql", "seeds/s.csv",
                 "tests/generic/t.sql", "signaffect/stats/s.py", "signaffect/core/c.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("a")
    (tmp_path / "tests" / "test_x.py").write_text("a")
    monkeypatch.setattr(project_code, "PROJECT_DIR", tmp_path)
    monkeypatch.setattr(project_code, "DBT_CONFIG_FILES",
                        tuple(tmp_path / path.name for path in project_code.DBT_CONFIG_FILES))
    first = project_code.project_code_fingerprint()
    (tmp_path / "tests" / "test_x.py").write_text("b")  # pytest's, not dbt's
    assert project_code.project_code_fingerprint() == first
    for name in ("dbt_project.yml", "models/m.sql", "macros/x.sql", "seeds/s.csv",
                 "tests/generic/t.sql", "signaffect/stats/s.py", "signaffect/core/c.py"):
        (tmp_path / name).write_text("b")
        changed = project_code.project_code_fingerprint()
        assert changed != first, name
        first = changed
