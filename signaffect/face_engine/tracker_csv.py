"""Tracker output read from CSV into the contract's table (raw.face_frames rows).

Why: a researcher whose videos are gone may still have OpenFace 2.x or MediaPipe output;
reading it into the same schema as the video engine lets every mart and `cli.py agree`
treat it alike. Pure (pyarrow and numpy): ingest/face_csv.py matches the file to the corpus
and loads it.

Formats, told apart by their columns:
- OpenFace 2.x (FeatureExtraction, FaceLandmarkVidMulti): `frame` (from 1), `face_id` (when
  present, else face 0), `timestamp` (s), `confidence`, `success`, `pose_Rx/Ry/Rz` (radians,
  camera axes x right, y down, z away from the camera; R = Rx·Ry·Rz), `x_0..x_67`,
  `y_0..y_67` (pixels) and any `AUxx_r` / `AUxx_c`. Headers and values are separated by
  ", " (the space is dropped). Pose becomes the contract's degrees: pitch = -Rx (OpenFace's
  Rx is positive when the head tips down), yaw = +Ry (positive when the face turns to the
  signer's right, the image's left), roll = +Rz (positive when the top of the head moves
  to the image's right).
- MediaPipe blendshapes: `frame` (from 0), optional `timestamp_ms` and `face_id`, and the 52
  blendshape scores by name (`_neutral`, `browDownLeft`, ...). No landmarks, so no derived
  measures: the scores are what it gives.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from signaffect.core.errors import InputFileError
from signaffect.face_engine.measures import OPENFACE_68, derived_measures
from signaffect.face_engine.schema import FACE_FRAMES_SCHEMA, MEASURES

#: MediaPipe Face Landmarker's 52 blendshape categories, in its output order.
BLENDSHAPES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft",
    "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft",
    "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight",
)  # fmt: skip

N_POINTS = OPENFACE_68.n_points
OPENFACE_COLUMNS: tuple[str, ...] = (
    "frame", "timestamp", "confidence", "success", "pose_Rx", "pose_Ry", "pose_Rz",
    *(f"x_{i}" for i in range(N_POINTS)), *(f"y_{i}" for i in range(N_POINTS)),
)  # fmt: skip
MEDIAPIPE_COLUMNS: tuple[str, ...] = ("frame", *BLENDSHAPES)
ACTION_UNIT = re.compile(r"AU\d\d_[rc]")
HINT = "give OpenFace 2.x output (FeatureExtraction -2Dfp -pose -aus) or a MediaPipe blendshape CSV"


def read_table(path: Path) -> pa.Table:
    """The CSV with its column names stripped (OpenFace writes ', '); a one-line error when
    it is not a readable CSV."""
    try:
        table = pacsv.read_csv(path)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(str(path), "file", f"not a readable CSV ({problem})", HINT) from None
    return table.rename_columns([name.strip() for name in table.column_names])


def source_of(path: Path, names: list[str]) -> str:
    """`openface_csv` or `mediapipe_csv`, by the columns; an error names what is missing."""
    present = set(names)
    if {"success", "pose_Rx"} & present or any(ACTION_UNIT.fullmatch(n) for n in names):
        wanted, source = OPENFACE_COLUMNS, "openface_csv"
    elif set(BLENDSHAPES) & present:
        wanted, source = MEDIAPIPE_COLUMNS, "mediapipe_csv"
    else:
        raise InputFileError(str(path), "columns", "neither OpenFace's nor MediaPipe's", HINT)
    missing = [name for name in wanted if name not in present]
    if missing:
        more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
        shown = ", ".join(missing[:6]) + more
        raise InputFileError(
            str(path), f"column {missing[0]}", f"missing ({source}: {shown})", HINT
        )
    return source


def numeric(path: Path, table: pa.Table, name: str) -> np.ndarray:
    """Column `name` as float64 (empty cells NaN); an error names a non-numeric column."""
    column = table.column(name)
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
            or pa.types.is_null(column.type)):
        raise InputFileError(str(path), f"column {name}", f"not numeric ({column.type})", HINT)
    return column.cast(pa.float64()).to_numpy(zero_copy_only=False)


def read_tracker_csv(path: Path, media_file: str, fps: float) -> pa.Table:
    """The contract's rows of one tracker CSV, for corpus media file `media_file`. `fps`
    gives a MediaPipe CSV without `timestamp_ms` its frame times."""
    path = Path(path)
    table = read_table(path)
    source = source_of(path, table.column_names)
    columns = (
        _openface(path, table) if source == "openface_csv" else _mediapipe(path, table, fps)
    )
    frame = columns["video_frame"]
    if frame.size and (np.isnan(frame).any() or (frame < 0).any() or (frame % 1).any()):
        raise InputFileError(str(path), "column frame", "holds a value that is not a frame number",
                             "frames count whole video frames (OpenFace from 1)")
    n = table.num_rows
    face_id = numeric(path, table, "face_id") if "face_id" in table.column_names else np.zeros(n)
    fields = {
        "media_file": pa.array([media_file] * n, pa.string()),
        "media_hash": pa.nulls(n, pa.string()),
        "source": pa.array([source] * n, pa.string()),
        "source_file": pa.array([path.name] * n, pa.string()),
        "model_hash": pa.nulls(n, pa.string()),
        "face_id": pa.array(face_id.astype(np.int32)),
        **{k: v for k, v in columns.items() if isinstance(v, pa.Array)},
        **{k: pa.array(v, pa.float64(), mask=np.isnan(v)) for k, v in columns.items()
           if isinstance(v, np.ndarray) and k != "video_frame"},
        "video_frame": pa.array(frame.astype(np.int32)),
    }
    for name in ("confidence", "inter_ocular_px", *MEASURES):
        fields.setdefault(name, pa.nulls(n, pa.float64()))
    for name in ("landmarks_x", "landmarks_y"):
        fields.setdefault(name, pa.nulls(n, pa.list_(pa.float32())))
    return pa.table({f.name: fields[f.name].cast(f.type) for f in FACE_FRAMES_SCHEMA},
                    schema=FACE_FRAMES_SCHEMA)


def _openface(path: Path, table: pa.Table) -> dict[str, np.ndarray | pa.Array]:
    """OpenFace columns → contract columns (measures null where `success` is 0)."""
    found = numeric(path, table, "success") > 0
    x = np.column_stack([numeric(path, table, f"x_{i}") for i in range(N_POINTS)])
    y = np.column_stack([numeric(path, table, f"y_{i}") for i in range(N_POINTS)])
    lost = ~found[:, None] | np.isnan(x) | np.isnan(y)
    x, y = np.where(lost, np.nan, x), np.where(lost, np.nan, y)
    measures = derived_measures(x, y, OPENFACE_68)
    degrees = {
        "head_pitch_deg": -numeric(path, table, "pose_Rx"),
        "head_yaw_deg": numeric(path, table, "pose_Ry"),
        "head_roll_deg": numeric(path, table, "pose_Rz"),
    }
    units = [n for n in table.column_names if ACTION_UNIT.fullmatch(n)]
    scores = [numeric(path, table, n) for n in units]
    return {
        "video_frame": numeric(path, table, "frame") - 1,
        "time_ms": numeric(path, table, "timestamp") * 1000.0,
        "face_found": pa.array(found),
        "confidence": numeric(path, table, "confidence"),
        **{k: np.where(found, v, np.nan) for k, v in measures.items()},
        **{k: np.where(found, np.degrees(v), np.nan) for k, v in degrees.items()},
        "scores": _score_maps(units, scores, found),
        "landmarks_x": _point_lists(x, found),
        "landmarks_y": _point_lists(y, found),
    }


def _mediapipe(path: Path, table: pa.Table, fps: float) -> dict[str, np.ndarray | pa.Array]:
    """MediaPipe blendshape columns → contract columns (a row with no score found no face)."""
    scores = [numeric(path, table, name) for name in BLENDSHAPES]
    found = ~np.isnan(np.column_stack(scores)).all(axis=1)
    frame = numeric(path, table, "frame")
    if "timestamp_ms" in table.column_names:
        time_ms = numeric(path, table, "timestamp_ms")
    else:
        time_ms = frame * 1000.0 / fps
    return {
        "video_frame": frame,
        "time_ms": time_ms,
        "face_found": pa.array(found),
        "scores": _score_maps(list(BLENDSHAPES), scores, found),
    }


def _score_maps(names: list[str], scores: list[np.ndarray], found: np.ndarray) -> pa.Array:
    """One map of name → score per row (null where no face, empty scores left out)."""
    rows = []
    for i, ok in enumerate(found):
        rows.append(
            [(name, float(v[i])) for name, v in zip(names, scores, strict=True)
             if not math.isnan(v[i])] if ok else None
        )
    return pa.array(rows, pa.map_(pa.string(), pa.float32()))


def _point_lists(values: np.ndarray, found: np.ndarray) -> pa.Array:
    """Each row's landmarks as one list (null where no face)."""
    flat = pa.array(values.astype(np.float32).ravel())
    offsets = pa.array(np.arange(0, values.size + 1, values.shape[1], dtype=np.int32))
    lists = pa.ListArray.from_arrays(offsets, flat)
    return pc.if_else(pa.array(found), lists, pa.nulls(len(found), lists.type))
