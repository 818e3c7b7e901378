"""Tracker CSVs made in the tests from the corpus's own codes (there is no video or tracker
output in the corpus): a 68-point face whose brows are raised, plus noise, on the frames an
annotator coded `eye brows=raised`, written in OpenFace 2.x's exact column layout
(FeatureExtraction -2Dfp -pose -aus: header and values separated by ", ").

Synthetic: agreement measured on these files checks the code, never the face; it is not a
finding about ASL.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np

from ingest.fer import media_rule_sql

#: OpenFace 2.x action-unit columns in its order: intensities, then presences.
AU_R = ["01", "02", "04", "05", "06", "07", "09", "10", "12", "14", "15", "17", "20", "23",
        "25", "26", "45"]  # fmt: skip
AU_C = [*AU_R[:-1], "28", "45"]
HEADER = [
    "frame", "face_id", "timestamp", "confidence", "success",
    "pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz",
    *(f"x_{i}" for i in range(68)), *(f"y_{i}" for i in range(68)),
    *(f"AU{a}_r" for a in AU_R), *(f"AU{a}_c" for a in AU_C),
]  # fmt: skip
BROWS = list(range(17, 27))
IOD = 60.0  # eye-centre distance of the template face, pixels


def template() -> tuple[np.ndarray, np.ndarray]:
    """A frontal 68-point face, eyes 60 px apart at y = 200, brows 30 px above them."""
    x, y = np.zeros(68), np.zeros(68)
    x[0:17], y[0:17] = np.linspace(80, 180, 17), 260 - 60 * np.sin(np.linspace(0, np.pi, 17))
    x[17:22], y[17:22] = np.linspace(85, 120, 5), 170.0  # signer's right brow, outer → inner
    x[22:27], y[22:27] = np.linspace(140, 175, 5), 170.0  # left brow, inner → outer
    x[27:36], y[27:36] = 130.0, np.linspace(200, 240, 9)
    for start, centre in ((36, 100.0), (42, 160.0)):  # right eye, left eye
        x[start:start + 6] = centre + np.array([-10, -4, 4, 10, 4, -4])
        y[start:start + 6] = 200 + np.array([0, -5, -5, 0, 5, 5])
    x[48:60], y[48:60] = 130 + 25 * np.cos(np.linspace(0, 2 * np.pi, 12)), 280.0
    x[60:68], y[60:68] = 130 + 15 * np.cos(np.linspace(0, 2 * np.pi, 8)), 280.0
    y[62], y[66] = 275.0, 285.0  # inner lips: upper, lower midpoints
    return x, y


def write_openface_csv(
    path: Path,
    n_frames: int,
    raised: Iterable[int],
    *,
    seed: int = 0,
    lift: float = 0.15,
    noise: float = 0.03,
    fps: float = 30.0,
    no_face: Iterable[int] = (),
) -> None:
    """`n_frames` rows (frame from 1). On the 0-based frames in `raised` the brows sit `lift`
    inter-ocular distances higher; every frame adds Gaussian noise of sd `noise` (in
    inter-ocular distances) to the brows and sd 0.2 px to every point. Frames in `no_face` have
    success 0 and zeros, as OpenFace writes them."""
    rng = np.random.default_rng(seed)
    base_x, base_y = template()
    up = np.zeros(n_frames)
    up[list(raised)] = lift * IOD
    xs = base_x + rng.normal(0, 0.2, (n_frames, 68))
    ys = base_y + rng.normal(0, 0.2, (n_frames, 68))
    ys[:, BROWS] += -up[:, None] - rng.normal(0, noise * IOD, (n_frames, 1))
    success = np.ones(n_frames)
    lost = list(no_face)
    success[lost] = 0
    pose = rng.normal(0, 0.02, (n_frames, 3))
    aus = np.clip(rng.normal(1.0, 0.5, (n_frames, len(AU_R))), 0, 5)
    presence = (rng.random((n_frames, len(AU_C))) > 0.5).astype(float)
    frame = np.arange(1, n_frames + 1)
    columns = [frame, np.zeros(n_frames), (frame - 1) / fps, np.full(n_frames, 0.98), success,
               *np.full((3, n_frames), [[10.0], [5.0], [500.0]]), *pose.T, *xs.T, *ys.T,
               *aus.T, *presence.T]  # fmt: skip
    table = np.column_stack(columns)
    table[lost, 3:] = 0.0
    formats = ["%d", "%d", "%.3f", "%.2f", "%d", *["%.1f"] * 3, *["%.3f"] * 3,
               *["%.1f"] * 136, *["%.2f"] * len(AU_R), *["%.0f"] * len(AU_C)]  # fmt: skip
    np.savetxt(path, table, fmt=formats, delimiter=", ", header=", ".join(HEADER), comments="")


def coded_media_frames(
    con: duckdb.DuckDBPyConnection, field: str, value: str, view: str = "master"
) -> dict[str, tuple[int, set[int]]]:
    """Per corpus media file of `view` (raw tables, before a build): the video frames that
    reach past its last utterance, and the video frames an annotator coded `field=value`
    (annotation times are utterance-relative; the utterance's start places them in the
    media; frame = floor(ms · 30 / 1000))."""
    name = media_rule_sql("media_file_name", "m.legacy_path")
    view_sql = media_rule_sql("camera_view", "m.legacy_path")
    ends = con.execute(
        f"select {name}, max(u.end_ms) from raw.signstream_media_files m"
        " join raw.signstream_utterance_media using (source_file, media_id)"
        " join raw.signstream_utterances u using (source_file, utterance_id)"
        f" where {view_sql} = ? group by 1", [view]
    ).fetchall()
    spans = con.execute(
        f"select {name}, u.start_ms + a.start_ms, u.start_ms + a.end_ms"
        " from raw.signstream_annotations a"
        " join raw.signstream_fields f using (source_file, field_id)"
        " join raw.signstream_values v using (source_file, field_id, value_id)"
        " join raw.signstream_utterances u using (source_file, utterance_id)"
        " join raw.signstream_utterance_media using (source_file, utterance_id)"
        " join raw.signstream_media_files m using (source_file, media_id)"
        f" where f.name = ? and v.name = ? and {view_sql} = ?", [field, value, view]
    ).fetchall()
    frames: dict[str, set[int]] = {media: set() for media, _ in ends}
    for media, start, end in spans:
        frames[media].update(range(int(start * 30 // 1000), int(end * 30 // 1000) + 1))
    return {media: (int(end * 30 // 1000) + 10, frames[media]) for media, end in ends}
