"""Stable face ids over a whole video: the signer is the face tracked longest.

Why: MediaPipe lists a frame's faces in no guaranteed order, and the largest face is not
always the signer (a close interlocutor, a poster). Linking each face to the nearest face of
the recent frames (by the eyes' midpoint, in inter-ocular distances) makes tracks; the
track seen in the most frames is face 0, the signer, and the others follow by length; every
frame has a row for the signer, found or not. It runs on the whole video once its chunks are
in, so chunking never changes the ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from signaffect.face_engine.measures import MEDIAPIPE_478

MAX_SHIFT = 1.0  # inter-ocular distances a face may move between the frames it is seen in
MAX_GAP = 15  # frames a track may go unseen (a hand passing over the face) and continue


@dataclass
class _Track:
    centre: np.ndarray
    scale: float
    last_frame: int
    rows: list[int] = field(default_factory=list)


def _centre(xs: list[float], ys: list[float]) -> np.ndarray:
    points = np.column_stack([xs, ys]).astype(np.float64)
    eyes = [*MEDIAPIPE_478.eye_right, *MEDIAPIPE_478.eye_left]
    return points[eyes].mean(axis=0)


def _link(frames: np.ndarray, centres: list[np.ndarray], scales: np.ndarray) -> list[_Track]:
    """Greedy nearest-first linking of each frame's faces to the tracks still open."""
    tracks: list[_Track] = []
    order = np.argsort(frames, kind="stable")
    bounds = np.flatnonzero(np.diff(frames[order])) + 1
    for group in np.split(order, bounds):
        frame = int(frames[group[0]])
        open_tracks = [t for t in tracks if frame - t.last_frame <= MAX_GAP]
        pairs = sorted(
            (float(np.hypot(*(centres[row] - t.centre))) / max(t.scale, 1e-9), k, int(row))
            for k, t in enumerate(open_tracks)
            for row in group
        )
        used_tracks: set[int] = set()
        placed: set[int] = set()
        for distance, k, row in pairs:
            if distance <= MAX_SHIFT and k not in used_tracks and row not in placed:
                track = open_tracks[k]
                track.centre, track.scale, track.last_frame = centres[row], scales[row], frame
                track.rows.append(row)
                used_tracks.add(k)
                placed.add(row)
        for row in group:
            if int(row) not in placed:
                tracks.append(_Track(centres[row], float(scales[row]), frame, [int(row)]))
    return tracks


def track_faces(table: pa.Table) -> pa.Table:
    """The table with face_id replaced by stable ids (0: the signer, the longest track; ties
    go to the track seen first) and one row for the signer in every frame: where the signer
    was not found, a row with face_id 0, face_found false and null measures (as the
    contract's face-less frames). Rows in frame order, then face id."""
    found = np.asarray(table.column("face_found").to_numpy(zero_copy_only=False), dtype=bool)
    rows = np.flatnonzero(found)
    ids = np.zeros(rows.size, dtype=np.int32)
    frames = table.column("video_frame").to_numpy(zero_copy_only=False)
    if rows.size:
        xs = table.column("landmarks_x").take(rows).to_pylist()
        ys = table.column("landmarks_y").take(rows).to_pylist()
        centres = [_centre(x, y) for x, y in zip(xs, ys, strict=True)]
        scales = table.column("inter_ocular_px").to_numpy(zero_copy_only=False)[rows]
        tracks = _link(frames[rows], centres, scales)
        tracks.sort(key=lambda t: (-len(t.rows), int(frames[rows][t.rows[0]])))
        for face_id, track in enumerate(tracks):
            ids[track.rows] = face_id
    faces = table.take(rows)
    faces = faces.set_column(faces.schema.get_field_index("face_id"), "face_id", pa.array(ids))
    with_signer = set(frames[rows][ids == 0].tolist())
    firsts: dict[int, int] = {}
    for index, frame in enumerate(frames.tolist()):
        if frame not in with_signer:
            firsts.setdefault(frame, index)
    missing = _signer_absent(table.take(sorted(firsts.values())))
    tracked = pa.concat_tables([faces, missing])
    order = pc.sort_indices(tracked, [("video_frame", "ascending"), ("face_id", "ascending")])
    return tracked.take(order)


def _signer_absent(rows: pa.Table) -> pa.Table:
    """The rows, one per frame, turned into 'signer not found' rows: face_id 0, face_found
    false, every face value null (media, frame and time kept)."""
    kept = {"media_file", "media_hash", "source", "source_file", "model_hash", "video_frame",
            "time_ms"}
    for index, field_ in enumerate(rows.schema):
        if field_.name == "face_id":
            column = pa.array(np.zeros(rows.num_rows, np.int32))
        elif field_.name == "face_found":
            column = pa.array(np.zeros(rows.num_rows, bool))
        elif field_.name not in kept:
            column = pa.nulls(rows.num_rows, field_.type)
        else:
            continue
        rows = rows.set_column(index, field_, column)
    return rows
