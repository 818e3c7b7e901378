"""DuckDB's memory limit and temp directory come from one set of settings, for dbt and for
every connection SignAffect opens."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from signaffect.core.settings import DEFAULT_DBT_THREADS, DEFAULT_MEMORY_LIMIT, PROJECT_DIR
from signaffect.core.warehouse import connect


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    row = con.execute("select current_setting(?)", [name]).fetchone()
    assert row is not None
    return str(row[0])


def test_profile_reads_the_same_variables_with_the_same_defaults() -> None:
    profile = (PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8")
    assert f"env_var('SIGNAFFECT_MEMORY_LIMIT', '{DEFAULT_MEMORY_LIMIT}')" in profile
    db = "var('signaffect_db', env_var('SIGNAFFECT_DB', 'warehouse/signaffect.duckdb'))"
    assert f"path: \"{{{{ {db} }}}}\"" in profile
    assert f"env_var('SIGNAFFECT_TEMP_DIR', {db} ~ '.tmp')" in profile
    assert f"env_var('SIGNAFFECT_THREADS', '{DEFAULT_DBT_THREADS}') | int" in profile


def test_connections_apply_the_memory_limit_and_temp_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = duckdb.connect(config={"memory_limit": "1GB"})
    monkeypatch.setenv("SIGNAFFECT_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("SIGNAFFECT_TEMP_DIR", str(tmp_path / "spill"))
    con = connect(tmp_path / "w.duckdb")
    assert _setting(con, "memory_limit") == _setting(reference, "memory_limit")
    assert _setting(con, "temp_directory") == str(tmp_path / "spill")
    con.close()
    monkeypatch.delenv("SIGNAFFECT_TEMP_DIR")
    con = connect(tmp_path / "w.duckdb", read_only=True)
    assert _setting(con, "temp_directory") == f"{tmp_path / 'w.duckdb'}.tmp"
    con.close()
