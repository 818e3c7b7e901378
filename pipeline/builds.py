"""Every `dbt build` the pipeline runs, recorded in the warehouse (`signaffect.core.build_state`):
the raw data it started from, and whether it finished, failed or was interrupted.

Why here: the pipeline is the one place that runs dbt, so a build the reads could not see
(a failed one, an interrupted one, one that rebuilt only the FER marts) cannot happen.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import Any

from rich.progress import Progress

from ingest.corpus import backfill_lookups
from ingest.raw_tables import ensure_raw_tables
from signaffect.core.build_settings import settings_for
from signaffect.core.build_state import (
    BuildRecord,
    begin_build,
    end_build,
    read_record,
    unchanged_since_built,
)
from signaffect.core.dbt_runner import run_dbt
from signaffect.core.errors import SignAffectError
from signaffect.core.project_code import project_code_fingerprint
from signaffect.core.settings import dbt_log_level
from signaffect.core.warehouse import connect, verify_readable


def recorded_build(
    db: Path,
    progress: Progress | None = None,
    dbt_vars: dict[str, Any] | None = None,
    extra_args: list[str] | None = None,
    partial_tables: tuple[str, ...] | None = None,
    force: bool = False,
    write_json: bool = False,
) -> int:
    """`dbt build` on `db` with the vars of the last build and `dbt_vars` (checked) over
    them, recorded as begun, then built, failed or interrupted; returns the nodes dbt ran
    (`write_json`: also dbt's run_results.json, bench_scale's node times).
    A partial build (`extra_args` selecting part of the project) names in `partial_tables`
    the raw tables whose every dependant it rebuilds (none: it only rebuilds marts from the
    same raw data), and leaves the marts' state as it found it.

    A full build first reads every table (a damaged file is refused before dbt writes)
    and checks that this process can write the file, so a lock or a read-only file is one
    line, not dbt's log. A full build whose raw data, vars and project code match the last
    finished build (`unchanged_since_built`) runs no dbt at all and returns 0, unless
    `force`: it would remake the same marts and pass the same tests.
    """
    dbt_log_level()  # a wrong level is refused before the build is recorded as begun
    code = project_code_fingerprint()
    begun = _begin(db, dbt_vars, partial_tables, code, skip_unchanged=not (force or extra_args))
    if begun is None:
        return 0
    previous, settings, refused = begun
    keep = None
    if partial_tables is not None:
        keep = previous.state if previous is not None else "partial"
    if refused is not None:
        _end(db, "failed", str(refused), None)
        raise refused
    try:
        ran = run_dbt("build", db, dbt_vars=settings, extra_args=extra_args, progress=progress,
                      write_json=write_json)
    except KeyboardInterrupt:
        _end(db, "interrupted", None, None)
        raise
    except BaseException as exc:
        _end(db, "failed", str(exc).strip().splitlines()[0] if str(exc).strip() else None, None)
        raise
    _end(db, "built", None, keep)
    return ran


def _begin(
    db: Path,
    dbt_vars: dict[str, Any] | None,
    partial_tables: tuple[str, ...] | None,
    code: str,
    *,
    skip_unchanged: bool,
) -> tuple[BuildRecord | None, dict[str, Any], SignAffectError | None] | None:
    """Record the build as begun; return the record it replaces, the vars it runs with (the
    last build's, `dbt_vars` over them) and why they are refused (recorded as a failed
    build that keeps the last build's vars, so the next build does not inherit the error).
    None, with nothing written, when a full build would remake the marts as they are
    (`skip_unchanged` and `unchanged_since_built`)."""
    con = connect(db, create=False)
    try:
        if partial_tables is None:
            verify_readable(con)
        previous = read_record(con)
        kept = previous.settings if previous is not None else {}
        refused = None
        try:
            settings = settings_for(kept, dbt_vars)
        except SignAffectError as exc:
            settings, refused = dict(kept), exc
        if (partial_tables is None and skip_unchanged and refused is None
                and unchanged_since_built(con, settings, code)):
            return None
        ensure_raw_tables(con)
        if partial_tables is None:
            backfill_lookups(con)
        begin_build(con, settings, partial_tables, code)
    finally:
        con.close()
    return previous, settings, refused


def _end(db: Path, state: str, message: str | None, keep: str | None) -> None:
    """Record how the build ended. If even that fails (the disk filled, another process
    took the file), the record still says `building`, which reads as stale: never wrong."""
    with suppress(Exception):
        con = connect(db, create=False)
        try:
            end_build(con, state, message, keep)
        finally:
            con.close()


def unrecorded_dbt(
    command: str, db: Path, dbt_vars: dict[str, Any] | None = None,
    extra_args: list[str] | None = None, write_json: bool = False,
) -> int:
    """`dbt <command>` on `db` without a build record, for bench/ only: it times dbt itself,
    which a recorded build would blur (fingerprinting raw). The marts it rebuilds are not
    recorded, so use it on a scratch warehouse; everything else builds through
    `recorded_build`. `write_json`: also dbt's run_results.json (bench_profile's node times)."""
    return run_dbt(command, db, dbt_vars=dbt_vars, extra_args=extra_args, write_json=write_json)
