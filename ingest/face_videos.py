"""The face engine's results into the warehouse: each video's shards, with stable face ids,
into raw.face_frames, and a status row per video in raw.face_videos.

Why: the engine (signaffect/face_engine) only computes; this module loads what its shards
hold once a video's chunks are all in, giving face ids over the whole video (so chunking
never changes them). raw.face_videos has raw.fer_videos' columns (`mode` is MediaPipe's
running mode, `detector_settings` the face settings), so both engines' runs are driven and
resumed alike. The frames go in first, then the 'ok' row: a run stopped in between finds no
'ok' row and loads that video again (replacing its frames), never twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.compute as pc

from ingest.face_frames import store_face_frames
from ingest.fer import load_fer_results, status_row
from signaffect.face_engine.track import track_faces
from signaffect.fer_engine.schema import UnusableVideoError, VideoKey
from signaffect.fer_engine.shards import key_dir, read_video

if TYPE_CHECKING:  # duckdb is imported by the caller
    import duckdb

FACE_VIDEOS = "face_videos"
FACE_MODE = "image"  # MediaPipe's running mode: each frame on its own


def record_face_failure(
    con: duckdb.DuckDBPyConnection, path: Path, key: VideoKey, error: str, elapsed_s: float
) -> None:
    """A 'failed' row for a video the face engine could not analyse (replacing its last)."""
    row = status_row(path, key, FACE_MODE, error=error, elapsed_s=elapsed_s)
    load_fer_results(con, None, [row], tables=(FACE_VIDEOS,))


class NoFaceError(UnusableVideoError):
    """A video in which no frame shows a face: bad input for the face engine (the wrong
    camera, a blank clip), refused rather than loaded as rows that measure nothing."""


def load_face_video(con: duckdb.DuckDBPyConnection, root: Path, key: VideoKey) -> bool:
    """Load one key's complete shards into raw.face_frames (faces tracked over the whole
    video) and its 'ok' row into raw.face_videos; False while a chunk is missing;
    NoFaceError, with nothing loaded, when no frame shows a face."""
    found = read_video(key_dir(root, key))
    if found is None:
        return False
    table, meta = found
    if not pc.any(table["face_found"]).as_py():
        raise NoFaceError(f"{meta['video_path']}: no face found in any of its "
                          f"{table.num_rows} frames (another camera's video, or a blank clip?)")
    store_face_frames(con, track_faces(table))
    row = status_row(meta["video_path"], key, FACE_MODE,
                     table=table.replace_schema_metadata(meta),
                     elapsed_s=float(meta["elapsed_s"]))
    load_fer_results(con, None, [row], tables=(FACE_VIDEOS,))
    return True
