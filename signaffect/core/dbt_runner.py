"""Run dbt in-process against the warehouse, with progress and one-line failures."""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from rich.progress import Progress

from signaffect.core.errors import SignAffectError
from signaffect.core.failpoints import failpoint
from signaffect.core.failures import from_text
from signaffect.core.hashing import sha256_bytes
from signaffect.core.settings import DBT_TARGETS_DIR, PROJECT_DIR, dbt_log_level
from signaffect.core.warehouse import connect

LOG_HINT = "dbt's log is in logs/dbt.log (every statement with --debug)"
#: Each warehouse's own dbt target folder (`target_dir`); the most recently used are kept.
TARGETS_DIR = DBT_TARGETS_DIR
KEEP_TARGETS = 8

#: Failed node statuses, as dbt's results name them.
FAILED = {"error", "fail", "runtime error"}
#: A node's error when Ctrl-C interrupted its query.
INTERRUPTED = re.compile(r"INTERRUPT Error|KeyboardInterrupt")


def _release_warehouse() -> None:
    """dbt-duckdb keeps its DuckDB handle for the life of the process; drop it so that this
    process (and others) can open the warehouse again, read-only or not."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    # Private, but the way dbt-duckdb's maintainer gives for programmatic runs
    # (duckdb/dbt-duckdb#616); the public `keep_open: false` reopens the file whenever no
    # node holds a cursor, and each close checkpoints, defeating checkpoint_threshold.
    DuckDBConnectionManager.close_all_connections()
    gc.collect()


def _dbt_args(
    command: str, db: Path, dbt_vars: dict[str, Any] | None, write_json: bool = False
) -> list[str]:
    """The command line: the warehouse goes in as a var that profiles.yml reads, so that
    `dbt` by hand still follows SIGNAFFECT_DB."""
    # No manifest.json / run_results.json unless asked (bench/bench_profile.py reads the
    # node times): writing them is ~1.5 s of every in-process run. dbt's partial-parse file
    # is written either way. dbt's console log stays off (errors are reported as one line);
    # its file log, logs/dbt.log, at `dbt_log_level()` (every statement only when asked).
    json_flag = "--write-json" if write_json else "--no-write-json"
    args = ["--log-level", "none", "--log-level-file", dbt_log_level(), "--no-use-colors",
            json_flag, command, "--project-dir", str(PROJECT_DIR),
            "--profiles-dir", str(PROJECT_DIR), "--target-path", str(target_dir(db))]
    if command == "build":
        # Unit tests check the SQL, not the data: as dbt advises, a production build skips
        # them. The test suite runs them (tests/test_dbt_unit.py), and so does `dbt build`.
        args += ["--exclude-resource-type", "unit_test"]
    return [*args, "--vars", json.dumps({**(dbt_vars or {}), "signaffect_db": str(db)})]


def target_dir(db: Path) -> Path:
    """The dbt target folder of warehouse `db` (its partial parse, compiled SQL and, when
    asked, run_results.json). dbt reparses the whole project (~8 s) when its saved parse was
    made for another warehouse path (the profile's path and the `signaffect_db` var both
    differ), so each warehouse keeps its own; only the `KEEP_TARGETS` most recently used
    folders are kept."""
    folder = TARGETS_DIR / sha256_bytes(str(db.resolve()).encode())[:16]
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)
    others = sorted(
        (p for p in TARGETS_DIR.iterdir() if p.is_dir() and p != folder),
        key=lambda p: p.stat().st_mtime, reverse=True,
    )
    for stale in others[KEEP_TARGETS - 1:]:
        shutil.rmtree(stale, ignore_errors=True)
    return folder


def run_dbt(
    command: str,
    db: Path,
    dbt_vars: dict[str, Any] | None = None,
    extra_args: list[str] | None = None,
    progress: Progress | None = None,
    write_json: bool = False,
) -> int:
    """Invoke `dbt <command>` on `db` (the caller must have closed its own connection);
    `write_json` also writes run_results.json and manifest.json into `target_dir(db)`.

    Returns the number of nodes dbt ran.
    """
    from dbt.cli.main import dbtRunner

    task = progress.add_task(f"dbt {command}", total=None) if progress else None

    def on_event(event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        failpoint("dbt.node")
        if progress is not None and task is not None:
            progress.advance(task)

    with _ctrl_c_noticed() as interrupted:
        try:
            result = dbtRunner(callbacks=[on_event]).invoke(
                [*_dbt_args(command, db, dbt_vars, write_json), *(extra_args or [])]
            )
        finally:
            _release_warehouse()
    if result.success:
        return len(getattr(result.result, "results", []))
    if interrupted or isinstance(result.exception, KeyboardInterrupt):
        raise KeyboardInterrupt
    raise _failure(result, command, db)


@contextmanager
def _ctrl_c_noticed() -> Iterator[list[bool]]:
    """Note a Ctrl-C while dbt runs: dbt and DuckDB may report it as any error (an
    interrupted query, a connection already closed), so the note decides, not the message."""
    seen: list[bool] = []
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield seen
        return

    def note(signum: int, frame: Any) -> None:
        seen.append(True)
        previous(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


def _failure(result: Any, command: str, db: Path) -> SignAffectError:
    """One line for a failed invocation: a known cause first, else dbt's own words."""
    if result.exception is not None:
        text = str(result.exception)
        _raise_known_cause(text, command, db)
        lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
        return SignAffectError(f"dbt {command} could not run: {' '.join(lines[:3])}", LOG_HINT)
    failures = [
        r for r in getattr(result.result, "results", []) if str(getattr(r, "status", "")) in FAILED
    ]
    if any(INTERRUPTED.search(str(failed.message)) for failed in failures):
        raise KeyboardInterrupt  # Ctrl-C met a query: DuckDB reports it as the node's error
    for failed in failures:
        _raise_known_cause(str(failed.message), command, db)
    detail = _detail(failures[0], db) if failures else "no message"
    return SignAffectError(
        f"dbt {command} failed ({len(failures)} node(s)); first: {detail}", LOG_HINT
    )


def _detail(failed: Any, db: Path) -> str:
    """A failed node and why: for a data test, the model and the rules it breaks."""
    node = failed.node
    broken = _broken_rules(node, db)
    if broken:
        model = str(getattr(node, "attached_node", None) or node.name).rsplit(".", 1)[-1]
        return f"{model} breaks {broken}"
    lines = str(failed.message or "").strip().splitlines()
    return f"{node.name}: {lines[0] if lines else 'no message'}"


def _broken_rules(node: Any, db: Path) -> str:
    """The rules a failed `contract` test (tests/generic/contract.sql) returns, each with its
    rows, read by rerunning its query: dbt itself only says how many rules failed. Empty
    for any other node, or when the query cannot run."""
    metadata = getattr(node, "test_metadata", None)
    sql = getattr(node, "compiled_code", None)
    if getattr(metadata, "name", None) != "contract" or not sql:
        return ""
    try:
        with connect(db, read_only=True) as con:
            rows = con.execute(f"select * from ({sql}) limit 5").fetchall()
    except (duckdb.Error, SignAffectError):
        return ""
    return "; ".join(f"{rule} ({n} row(s))" for rule, n in rows)


def _raise_known_cause(text: str, command: str, db: Path) -> None:
    """A lock, a full disk or a corrupt file named as such, not as the model that met it."""
    known = from_text(text, command, str(db))
    if known is not None:
        raise SignAffectError(known.lines[0], known.hint)
