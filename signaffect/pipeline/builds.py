"""Every `dbt build` the pipeline runs, recorded in the warehouse (`signaffect.core.build_state`):
the raw data it started from, and whether it finished, failed or was interrupted.

Why here: the pipeline is the one place that runs dbt, so a build the reads could not see
(a failed one, an interrupted one, one that rebuilt only the FER marts) cannot happen.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import Any

import duckdb
from rich.progress import Progress

from ingest.corpus import backfill_lookups
from ingest.raw_tables import ensure_raw_tables
from signaffect.core.build_state import begin_build, end_build, unchanged_since_built
from signaffect.core.dbt_runner import run_dbt
from signaffect.core.project_code import project_code_fingerprint
from signaffect.core.warehouse import connect, verify_readable


def recorded_build(
    db: Path,
    progress: Progress | None = None,
    dbt_vars: dict[str, Any] | None = None,
    extra_args: list[str] | None = None,
    partial_tables: tuple[str, ...] | None = None,
    force: bool = False,
) -> int:
    """`dbt build` on `db`, recorded as begun, then built, failed or interrupted; returns the
    nodes dbt ran. A partial build (`extra_args` selecting part of the project) names in
    `partial_tables` the raw tables whose every dependant it rebuilds (none: it only
    rebuilds marts from the same raw data), and leaves the marts' state as it found it.

    A full build first reads every table (a damaged file is refused before dbt writes)
    and checks that this process can write the file, so a lock or a read-only file is one
    line, not dbt's log. A full build whose raw data, vars and project code match the last
    finished build (`unchanged_since_built`) runs no dbt at all and returns 0, unless
    `force`: it would remake the same marts and pass the same tests.
    """
    code = project_code_fingerprint()
    con = connect(db, create=False)
    try:
        if partial_tables is None:
            if not (force or extra_args) and _unchanged(con, dbt_vars, code):
                return 0
            verify_readable(con)
        ensure_raw_tables(con)
        if partial_tables is None:
            backfill_lookups(con)
        previous = begin_build(con, dbt_vars, partial_tables, code)
    finally:
        con.close()
    keep = None
    if partial_tables is not None:
        keep = previous.state if previous is not None else "partial"
    try:
        ran = run_dbt("build", db, dbt_vars=dbt_vars, extra_args=extra_args, progress=progress)
    except KeyboardInterrupt:
        _end(db, "interrupted", None, None)
        raise
    except BaseException as exc:
        _end(db, "failed", str(exc).strip().splitlines()[0] if str(exc).strip() else None, None)
        raise
    _end(db, "built", None, keep)
    return ran


def _unchanged(con: duckdb.DuckDBPyConnection, dbt_vars: dict[str, Any] | None, code: str) -> bool:
    """`unchanged_since_built`, read-only, before anything writes; a file it cannot read is
    left to `verify_readable`, which names the damage."""
    try:
        return unchanged_since_built(con, dbt_vars, code)
    except duckdb.Error:
        return False


def _end(db: Path, state: str, message: str | None, keep: str | None) -> None:
    """Record how the build ended. If even that fails (the disk filled, another process
    took the file), the record still says `building`, which reads as stale: never wrong."""
    with suppress(Exception):
        con = connect(db, create=False)
        try:
            end_build(con, state, message, keep)
        finally:
            con.close()
