"""A training run is never lost: refused before the work when it could not be recorded, and
kept (with the command that records it) when the warehouse is taken while it trains."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.fault_tools import finish, lock_held, resume, run_cli, stopped_at

QUICK = ["train", "--trees", "5", "--folds", "2"]


@pytest.fixture
def own_copy(sample_db: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the sample warehouse (the tests lock it) and an artifacts folder to use."""
    db = tmp_path / "w.duckdb"
    shutil.copy(sample_db, db)
    return db, tmp_path / "artifacts"


def test_train_refuses_at_once_when_the_warehouse_is_locked(own_copy: tuple[Path, Path]) -> None:
    db, artifacts = own_copy
    with lock_held(db) as pid:
        result = run_cli(["--db", str(db), *QUICK, "--artifacts-dir", str(artifacts)])
    assert result.returncode == 1
    assert f"is in use by another process (PID {pid})" in result.stderr
    assert "Traceback" not in result.stderr
    assert not artifacts.exists() or not any(artifacts.iterdir()), "orphan artifacts folder"


def test_a_run_that_cannot_be_recorded_is_kept_and_loads_later(
    own_copy: tuple[Path, Path],
) -> None:
    db, artifacts = own_copy
    args = ["--db", str(db), *QUICK, "--artifacts-dir", str(artifacts)]
    with stopped_at(args, "train.record") as proc, lock_held(db):
        resume(proc)
        result = finish(proc)
    assert result.returncode == 1, result.stderr
    assert "finished but was not recorded" in result.stderr
    command = re.search(r"`(cli\.py .*--load-artifacts .*?)`", result.stderr)
    assert command is not None, result.stderr
    (folder,) = artifacts.iterdir()
    assert (folder / "metrics.json").is_file() and any(folder.glob("model-*.skops"))

    loaded = run_cli(command.group(1).split()[1:])
    assert loaded.returncode == 0, loaded.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("select run_id from ml_runs").fetchall()
        metrics = con.execute("select count(*) from ml_label_metrics").fetchall()[0][0]
    finally:
        con.close()
    assert runs == [(folder.name,)] and metrics > 0
    again = run_cli(command.group(1).split()[1:])
    assert again.returncode == 1 and "already recorded" in again.stderr
