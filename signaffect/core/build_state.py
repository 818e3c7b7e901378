"""Whether the marts were built from the raw data now in the warehouse: recorded by every
build, checked by every read.

Why: an ingest, a `remove` or a FER run changes `raw` at once, but the marts only at the
next `cli.py build`; a build that failed or was interrupted leaves some marts new and some
old. Either way the marts no longer say what the corpus holds, and a read that serves them
without a word misleads. So a build records, in `meta.builds`, a fingerprint of the raw rows
it started from (per raw table: rows and an order-free hash of every row, which DuckDB
computes in one scan and which reads, and so checksums, every raw block), its dbt vars, the
project's code (`signaffect.core.project_code`) and how it ended; every read compares that
record with `raw` as it is now (`stale_reason`), and a build whose raw data, vars and code
all match a finished one has nothing to do (`unchanged_since_built`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from signaffect.core.arrow_tables import transaction
from signaffect.core.errors import SignAffectError
from signaffect.core.output import warn

if TYPE_CHECKING:
    import duckdb

SCHEMA = "meta"
TABLE = f"{SCHEMA}.builds"
BUILD_HINT = "run `cli.py build` to rebuild the marts from the data now loaded"
#: A mart every build makes: its presence without a record is a build this module never saw.
SENTINEL_MART = "fct_frames"

#: Why marts whose last build did not end `built` are stale, by the state it ended in.
STATE_REASONS = {
    "building": "the build started {when} did not finish; the marts may mix two builds",
    "failed": "the build started {when} failed; the marts may mix two builds",
    "interrupted": "the build started {when} was interrupted; the marts may mix two builds",
    "partial": "only some marts were built ({when}), never all of them",
}

_COLUMNS = (
    "raw_fingerprint varchar, state varchar, settings varchar, "
    "started_at timestamptz, finished_at timestamptz, message varchar, code varchar"
)


@dataclass(frozen=True)
class BuildRecord:
    """The last build: what raw held when it started (table → rows:hash), its state
    (building, built, failed, interrupted), its dbt vars, times, error and the project code's
    fingerprint (None: recorded before the code was)."""

    raw_fingerprint: dict[str, str]
    state: str
    settings: dict[str, Any]
    started_at: datetime | None
    finished_at: datetime | None
    message: str | None
    code: str | None = None


def raw_fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per raw base table, `<rows>:<sum of row hashes>` (empty tables included)."""
    names = [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "and table_type = 'BASE TABLE' and table_catalog = current_database() order by 1"
        ).fetchall()
    ]
    if not names:
        return {}
    sql = " union all ".join(
        f"select ? as name, count(*) as n, coalesce(sum(hash(t)), 0)::varchar as h "
        f'from raw."{name}" as t'
        for name in names
    )
    return {str(n): f"{rows}:{digest}" for n, rows, digest in con.execute(sql, names).fetchall()}


def read_record(con: duckdb.DuckDBPyConnection) -> BuildRecord | None:
    """The last build's record, or None when no build was recorded."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? "
        "and table_name = 'builds' and table_catalog = current_database()",
        [SCHEMA],
    ).fetchall()[0][0]
    if not exists:
        return None
    row = con.execute(
        f"select * from {TABLE}"
    ).fetchone()
    if row is None:
        return None
    return BuildRecord(json.loads(row[0]), str(row[1]), json.loads(row[2] or "{}"), row[3],
                       row[4], row[5], row[6] if len(row) > 6 else None)


def write_record(con: duckdb.DuckDBPyConnection, record: BuildRecord) -> None:
    """Replace the record (one row) in one transaction."""
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(f"create table if not exists {TABLE} ({_COLUMNS})")
    con.execute(f"alter table {TABLE} add column if not exists code varchar")  # older files
    with transaction(con):
        con.execute(f"delete from {TABLE}")
        con.execute(
            f"insert into {TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            [json.dumps(record.raw_fingerprint, sort_keys=True), record.state,
             json.dumps(record.settings, sort_keys=True, default=str), record.started_at,
             record.finished_at, record.message, record.code],
        )


def unchanged_since_built(
    con: duckdb.DuckDBPyConnection, settings: dict[str, Any], code: str
) -> bool:
    """Whether a full build with dbt vars `settings` and project code `code` would remake
    the marts as they are: the last build finished (`built`) from the raw data now loaded,
    with the same vars and code, and its marts are there."""
    record = read_record(con)
    if record is None or record.state != "built" or record.code != code:
        return False
    settings = json.loads(json.dumps(dict(settings), sort_keys=True, default=str))
    if record.settings != settings or record.raw_fingerprint != raw_fingerprint(con):
        return False
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = 'main' "
        "and table_name = ? and table_catalog = current_database()",
        [SENTINEL_MART],
    ).fetchall()[0][0])


def begin_build(
    con: duckdb.DuckDBPyConnection,
    settings: dict[str, Any],
    partial_tables: tuple[str, ...] | None = None,
    code: str | None = None,
) -> None:
    """Record a build with dbt vars `settings` as started (state `building`, so a killed
    build reads as one). A full build fingerprints every raw table and records `code`; a
    partial one (`partial_tables`: the raw tables whose every dependant it rebuilds) only
    those, and keeps the code of the build before it when it is the same (the other marts
    are that build's)."""
    previous = read_record(con)
    now = raw_fingerprint(con)
    if partial_tables is None:
        fingerprint = now
    else:
        fingerprint = dict(previous.raw_fingerprint) if previous else {}
        fingerprint.update({t: now[t] for t in partial_tables if t in now})
        code = previous.code if previous is not None and previous.code == code else None
    write_record(con, BuildRecord(fingerprint, "building", dict(settings), datetime.now(UTC),
                                  None, None, code))


def end_build(
    con: duckdb.DuckDBPyConnection, state: str, message: str | None = None,
    previous_state: str | None = None,
) -> None:
    """Record how the build started by `begin_build` ended: `built`, `failed` or
    `interrupted`. A partial build that succeeded keeps the state the marts had before it
    (`previous_state`): it cannot repair what it did not rebuild."""
    record = read_record(con)
    if record is None:
        return
    if state == "built" and previous_state is not None:
        state = previous_state
    write_record(con, BuildRecord(record.raw_fingerprint, state, record.settings,
                                  record.started_at, datetime.now(UTC), message, record.code))


def stale_reason(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the marts do not show the raw data now loaded, or None when they do (or when
    nothing was ever built: the read then finds no marts and says so)."""
    record = read_record(con)
    if record is None:
        built = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'main' "
            "and table_name = ? and table_catalog = current_database()",
            [SENTINEL_MART],
        ).fetchall()[0][0]
        return "the marts' source was never recorded (built outside `cli.py build`)" if built \
            else None
    when = f"{record.started_at:%Y-%m-%d %H:%M} UTC" if record.started_at else "at an unknown time"
    if record.state != "built":
        return STATE_REASONS.get(record.state, "{when}: the build is {state}").format(
            when=when, state=record.state
        )
    now = raw_fingerprint(con)
    changed = sorted(
        name for name in set(record.raw_fingerprint) | set(now)
        if record.raw_fingerprint.get(name) != now.get(name)
    )
    if changed:
        tables = ", ".join(f"raw.{name}" for name in changed[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        return f"the raw data changed since the marts were built ({tables}{more})"
    return None


class StaleMartsError(SignAffectError):
    """The marts do not match the raw data: a command that writes results refuses them."""


#: (warehouse, mtime and size of it and its WAL) → stale reason: a command may read the
#: warehouse several times, and it does not change in between unless something writes.
_checked: dict[tuple[object, ...], str | None] = {}
_warned: set[tuple[str, str]] = set()


def _file_key(db: Path) -> tuple[object, ...]:
    stats: list[tuple[int, int] | None] = []
    for path in (db, db.with_name(db.name + ".wal")):
        try:
            st = os.stat(path)
            stats.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stats.append(None)
    return (str(db), *stats)


def check_marts(con: duckdb.DuckDBPyConnection, db: Path, *, refuse: bool) -> None:
    """The one staleness check of every read: refuse (raise StaleMartsError) or warn once on
    stderr when the marts do not match the raw data, naming the fix."""
    key = _file_key(db)
    if key not in _checked:
        _checked[key] = stale_reason(con)
    reason = _checked[key]
    if reason is None:
        return
    if refuse:
        raise StaleMartsError(f"{db}: the marts are stale: {reason}", BUILD_HINT)
    if (str(db), reason) not in _warned:
        _warned.add((str(db), reason))
        warn(f"{db}: the marts are stale: {reason}; run `cli.py build`")


def describe_state(con: duckdb.DuckDBPyConnection) -> str:
    """One line for `cli.py status`: how the marts relate to the raw data."""
    reason = stale_reason(con)
    record = read_record(con)
    if reason is not None:
        return f"marts: stale: {reason}; run `cli.py build`"
    if record is None:
        return "marts: not built yet; run `cli.py build`"
    finished = f"{record.finished_at:%Y-%m-%d %H:%M} UTC" if record.finished_at else "?"
    return f"marts: built {finished} from the raw data now loaded"


def corpus_files(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The corpus files raw holds now (name, content hash, size, where from), before any
    build too: `cli.py status` lists them beside the state of the marts built from them."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' "
        "and table_name = 'signstream_files' and table_catalog = current_database()"
    ).fetchall()[0][0]
    if not exists:
        return pa.table({"file": pa.array([], pa.string())})
    return con.sql(
        "select source_file as file, content_hash as sha256, n_bytes as bytes, "
        "source_path as path from raw.signstream_files order by source_file"
    ).to_arrow_table()
