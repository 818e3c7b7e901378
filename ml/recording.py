"""A finished training run is never lost: it is checked that it can be recorded before the
work starts, and when recording still fails at the end (another process took the lock, the
disk filled), its results stay in the artefact folder with the command that loads them.

A folder is never left behind without either an `ml_runs` row or that message.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from ml.oof_rows import saved_rows
from ml.results import RunRecord, write_artifacts, write_rows, write_tables
from signaffect.core.atomic import commit_dir
from signaffect.core.errors import SignAffectError
from signaffect.core.failpoints import failpoint
from signaffect.core.failures import from_text
from signaffect.core.paths import check_out_dir
from signaffect.core.warehouse import connect, table_exists

METRICS_FILE = "metrics.json"


def check_recordable(db: Path, artifacts_root: Path) -> None:
    """Fail now, not after minutes of CV, if the run could not be written: the warehouse
    must open for writing (no other writer, writable storage) and the folder accept files."""
    check_out_dir(artifacts_root)
    connect(db, create=False).close()


def record_run(
    db: Path, staging: Path, folder: Path, record: RunRecord, extra: dict[str, Any]
) -> Path:
    """Save the metrics beside the model parts in `staging`, which then becomes `folder`
    whole (`signaffect.core.atomic`), then the warehouse rows; return `folder`."""
    try:
        write_artifacts(staging, record, extra)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    commit_dir(staging, folder)
    try:
        failpoint("train.record")
        write_tables(db, record)
    except (duckdb.Error, OSError) as exc:
        cause = from_text(str(exc), "train", str(db))
        reason = cause.lines[0] if cause else str(exc).strip().splitlines()[0]
        raise SignAffectError(
            f"run {record.run['run_id']} finished but was not recorded in the warehouse: "
            f"{reason}",
            f"its results are kept in {folder}; record them with "
            f"`cli.py --db {db} train --load-artifacts {folder}`",
        ) from None
    return folder


def load_artifacts(db: Path, folder: Path) -> str:
    """Record in `db` the run saved in `folder` (its metrics.json); return its run id."""
    try:
        payload = json.loads((folder / METRICS_FILE).read_text(encoding="utf-8"))
        run = dict(payload["run"])
        run["created_at"] = datetime.fromisoformat(str(run["created_at"]))
        labels, importances = payload["label_metrics"], payload["feature_importance"]
        folds = payload.get("fold_metrics", [])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SignAffectError(
            f"{folder} holds no readable run ({type(exc).__name__}: {exc})",
            "pass the artifacts/<run_id> folder that `cli.py train` named",
        ) from None
    con = connect(db, read_only=True)
    try:
        known = table_exists(con, "main", "ml_runs") and con.execute(
            "select count(*) from main.ml_runs where run_id = ?", [run["run_id"]]
        ).fetchall()[0][0]
    finally:
        con.close()
    if known:
        raise SignAffectError(f"run {run['run_id']} is already recorded in {db}")
    write_rows(db, run, labels, folds, importances, saved_rows(folder))
    return str(run["run_id"])
