"""`cli.py ingest --face-csv`: tracker CSVs into raw.face_frames, with its own connection
(after the corpus, when both are given, since the CSVs are matched to it)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ingest.face_csv import load_face_csvs
from ingest.raw_tables import ensure_raw_tables
from signaffect.core.warehouse import connect, verify_readable


def ingest_face_csvs(db: Path, paths: Sequence[Path], fps: float) -> int:
    """Load the tracker CSVs `paths` into `db` (all or none); returns the rows written.
    `fps` times the frames of a MediaPipe CSV without timestamps."""
    con = connect(db)
    try:
        verify_readable(con)
        ensure_raw_tables(con)
        return load_face_csvs(con, paths, fps)
    finally:
        con.close()
