"""Tracker CSVs (OpenFace 2.x, MediaPipe blendshapes) matched to the corpus and loaded into
raw.face_frames (`cli.py ingest --face-csv`).

Why here: matching needs the ingested corpus (DuckDB), reading does not
(signaffect/face_engine/tracker_csv.py). Every file is read and checked before any is
loaded, and all are loaded in one transaction: a bad file leaves the warehouse as it was.

A CSV belongs to the corpus media file whose name, or whose name without its extension,
is the CSV's name without `.csv` (OpenFace names its output after the video:
`DSP DeadDog.mov` → `DSP DeadDog.csv`). Its frames must be the video's: as many as the
video's FER analysis decoded when there is one (raw.fer_videos), else at least enough to
reach the end of the last utterance the corpus times in that media file, and none missing
in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ingest.face_frames import store_face_frames
from ingest.fer import media_rule_sql
from signaffect.core.errors import InputFileError
from signaffect.face_engine.tracker_csv import read_tracker_csv

if TYPE_CHECKING:
    import duckdb

MATCH_HINT = "name the CSV after the corpus media file (`DSP DeadDog.mov` → `DSP DeadDog.csv`)"
FRAMES_HINT = "give the tracker output of the whole video, one row per frame (as OpenFace writes)"


def media_reach(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Each corpus media file's name → the latest utterance end (ms of the media) in it."""
    name = media_rule_sql("media_file_name", "media.legacy_path")
    rows = con.execute(
        f"select {name} as media_file, max(utterances.end_ms)"
        " from raw.signstream_media_files as media"
        " left join raw.signstream_utterance_media as link using (source_file, media_id)"
        " left join raw.signstream_utterances as utterances using (source_file, utterance_id)"
        " group by all"
    ).fetchall()
    return {media: float(end or 0) for media, end in rows if media}


def video_frame_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Frames decoded by the latest successful FER analysis of each video file."""
    rows = con.execute(
        "select video_file, n_frames from raw.fer_videos where status = 'ok'"
        " qualify row_number() over (partition by video_file order by analysed_at desc) = 1"
    ).fetchall()
    return {video: int(n) for video, n in rows if n}


def match_media(path: Path, media_names: Sequence[str]) -> str:
    """The corpus media file a CSV belongs to; an error when none (or several) match."""
    stem = path.stem if path.suffix.lower() == ".csv" else path.name
    found = sorted(m for m in media_names if stem in (m, PurePath(m).stem))
    if len(found) == 1:
        return found[0]
    problem = (
        f"matches several media files ({', '.join(found)})"
        if found
        else f"no corpus media file is named {stem!r} (with any extension)"
    )
    raise InputFileError(str(path), "file name", problem, MATCH_HINT)


def check_frames(path: Path, table: pa.Table, expected: int | None, reach_ms: float) -> None:
    """Refuse frames that are not the video's: missing ones, a count other than the decoded
    video's (`expected`), or too few to reach the corpus's last utterance in the media."""
    frames = np.unique(table.column("video_frame").to_numpy())
    n_frames = int(frames.max()) + 1 if frames.size else 0
    if frames.size < n_frames:
        gap = int(np.setdiff1d(np.arange(n_frames), frames)[0])
        raise InputFileError(str(path), "column frame",
                             f"frame {gap + 1} of 1-{n_frames} is missing", FRAMES_HINT)
    if expected is not None and n_frames != expected:
        raise InputFileError(
            str(path), "column frame",
            f"{n_frames} frames, but its video has {expected} (FER decoded it)", FRAMES_HINT,
        )
    times = table.column("time_ms").to_numpy(zero_copy_only=False)
    last_ms = float(np.nanmax(times)) if times.size and not np.isnan(times).all() else 0.0
    frame_ms = last_ms / (n_frames - 1) if n_frames > 1 else 0.0
    if last_ms + frame_ms < reach_ms:
        raise InputFileError(
            str(path), "column frame",
            f"{n_frames} frames end at {last_ms + frame_ms:.0f} ms, but the corpus's utterances"
            f" in its media file run to {reach_ms:.0f} ms", FRAMES_HINT,
        )


def read_face_csvs(
    con: duckdb.DuckDBPyConnection, paths: Sequence[Path], fps: float
) -> pa.Table:
    """Every CSV read, matched and checked (the first problem raised), as one table."""
    reach = media_reach(con)
    if not reach:
        raise InputFileError(str(paths[0]), "file name", "the warehouse has no corpus to match",
                             "ingest the corpus first: `cli.py ingest CORPUS`")
    decoded = video_frame_counts(con)
    tables = []
    for path in paths:
        media = match_media(Path(path), sorted(reach))
        table = read_tracker_csv(Path(path), media, fps)
        check_frames(Path(path), table, decoded.get(media), reach[media])
        tables.append(table)
    return pa.concat_tables(tables)


def load_face_csvs(con: duckdb.DuckDBPyConnection, paths: Sequence[Path], fps: float) -> int:
    """Read, check and load tracker CSVs (all or none); returns the rows written."""
    return store_face_frames(con, read_face_csvs(con, paths, fps))
