"""Face measures into the warehouse: raw.face_frames, whatever source computed them.

Why one loader: the MediaPipe video engine and the tracker-CSV readers (OpenFace, MediaPipe
blendshapes) all hand over an Arrow table in the contract's schema
(signaffect/face_engine/schema.py); this module checks it and replaces the rows of each
(media_file, source) it holds in one transaction, so loading twice changes nothing and a
failure leaves the warehouse as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from ingest.raw_store import RAW_SCHEMA
from signaffect.core.arrow_tables import ensure_table, insert_arrow, transaction
from signaffect.core.errors import SignAffectError
from signaffect.core.failpoints import failpoint
from signaffect.face_engine.schema import FACE_FRAMES_SCHEMA, SOURCES

if TYPE_CHECKING:  # duckdb is imported by the caller
    import duckdb

TABLE = "face_frames"
KEY = ("media_file", "source")
FRAME_KEY = (*KEY, "video_frame", "face_id")
REQUIRED = ("media_file", "source", "video_frame", "face_found")

#: The raw tables of this source, by name (ingest/raw_tables.py creates them for every build).
FACE_TABLES: dict[str, pa.Schema] = {TABLE: FACE_FRAMES_SCHEMA}


def ensure_face_frames(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema raw and raw.face_frames (the contract's columns) if missing."""
    ensure_table(con, RAW_SCHEMA, TABLE, FACE_FRAMES_SCHEMA)


def conform(table: pa.Table) -> pa.Table:
    """The table in the contract's column order, or a one-line error naming what differs.

    Columns are matched by name (order does not matter); a missing, extra or differently
    typed column, a null key, an unknown source or a repeated frame is refused, since any
    of them would load rows the marts cannot place.
    """
    names = set(table.schema.names)
    missing = [f.name for f in FACE_FRAMES_SCHEMA if f.name not in names]
    extra = sorted(names - set(FACE_FRAMES_SCHEMA.names))
    if missing or extra:
        raise SignAffectError(
            f"face frames: column(s) {', '.join(missing) or 'none'} missing"
            f" and {', '.join(extra) or 'none'} not in the contract",
            "build the table with signaffect.face_engine.schema.FACE_FRAMES_SCHEMA",
        )
    for field in FACE_FRAMES_SCHEMA:
        found = table.schema.field(field.name).type
        if found != field.type:
            raise SignAffectError(
                f"face frames: column {field.name} is {found}, the contract says {field.type}",
                "cast the column to the type in signaffect/face_engine/schema.py",
            )
    table = table.select(FACE_FRAMES_SCHEMA.names).cast(FACE_FRAMES_SCHEMA)
    check_rows(table)
    return table


def check_rows(table: pa.Table) -> None:
    """Refuse null keys, sources outside the contract and frames given twice."""
    for name in REQUIRED:
        if table.column(name).null_count:
            raise SignAffectError(
                f"face frames: column {name} has {table.column(name).null_count} null value(s)",
                "every row needs its media file, source, video frame and face_found",
            )
    unknown = sorted(set(pc.unique(table.column("source")).to_pylist()) - set(SOURCES))
    if unknown:
        raise SignAffectError(
            f"face frames: column source has unknown value(s) {', '.join(unknown)}",
            f"use one of {', '.join(SOURCES)}",
        )
    counts = table.group_by(list(FRAME_KEY), use_threads=False).aggregate([([], "count_all")])
    repeated = counts.filter(pc.greater(counts.column("count_all"), 1))
    if repeated.num_rows:
        first = repeated.slice(0, 1).to_pylist()[0]
        raise SignAffectError(
            f"face frames: {first['media_file']} ({first['source']}) has frame"
            f" {first['video_frame']} of face {first['face_id']} {first['count_all']} times",
            "give each (media_file, source, video_frame, face_id) one row",
        )


def store_face_frames(con: duckdb.DuckDBPyConnection, table: pa.Table) -> int:
    """Replace the rows of each (media_file, source) in `table` with its rows; returns how
    many rows were written. One transaction: re-running gives the same rows, a failure
    (bad table, disk full, Ctrl-C) leaves raw.face_frames as it was."""
    table = conform(table)
    ensure_face_frames(con)
    keys = table.select(list(KEY)).group_by(list(KEY), use_threads=False).aggregate([])
    with transaction(con):
        for media_file, source in zip(
            keys.column("media_file").to_pylist(), keys.column("source").to_pylist(), strict=True
        ):
            con.execute(
                f"delete from {RAW_SCHEMA}.{TABLE} where media_file = ? and source = ?",
                [media_file, source],
            )
        if table.num_rows:
            insert_arrow(con, f"{RAW_SCHEMA}.{TABLE}", table)
        failpoint("ingest.commit")
    return table.num_rows
