"""Each warehouse keeps its own dbt target folder, so building one warehouse does not throw
away another's partial parse (signaffect.core.dbt_runner.target_dir)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from signaffect.core import dbt_runner


def test_each_warehouse_has_its_own_target_and_the_newest_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dbt_runner, "TARGETS_DIR", tmp_path / "targets")
    monkeypatch.setattr(dbt_runner, "KEEP_TARGETS", 3)
    first = dbt_runner.target_dir(tmp_path / "a.duckdb")
    assert dbt_runner.target_dir(tmp_path / "sub" / ".." / "a.duckdb") == first
    (first / "partial_parse.msgpack").write_bytes(b"kept")
    b, c = (dbt_runner.target_dir(tmp_path / f"{name}.duckdb") for name in "bc")
    for age, folder in enumerate((c, first, b)):  # b the oldest
        os.utime(folder, (1e9 - age, 1e9 - age))
    d = dbt_runner.target_dir(tmp_path / "d.duckdb")
    assert len({first, b, c, d}) == 4
    assert sorted((tmp_path / "targets").iterdir()) == sorted([first, c, d])
    assert dbt_runner.target_dir(tmp_path / "a.duckdb") == first
    assert (first / "partial_parse.msgpack").read_bytes() == b"kept"


def test_dbt_is_pointed_at_the_warehouse_target(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    args = dbt_runner._dbt_args("build", db, None)
    assert args[args.index("--target-path") + 1] == str(dbt_runner.target_dir(db))
