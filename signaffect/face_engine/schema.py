"""The one contract every source of face measures writes: raw.face_frames.

Why here and alone: the video engine (MediaPipe), the tracker-CSV readers (OpenFace 2.x,
MediaPipe blendshape CSVs) and the warehouse loader all meet on this schema, and none of them
should import the others (nor OpenCV) to learn it.

One row per video frame and tracked face. Conventions (every source converts to them):
- `video_frame` counts decoded frames from 0; `time_ms` is that frame's media time.
- `face_id` is stable across the frames of one video: the face tracked as the signer keeps
  its id; `face_found` is false (and every measure null) on frames where no face was found.
- Head pose in degrees, right-handed, seen from the camera: `head_pitch_deg` rotation about
  the horizontal image axis, positive when the chin goes up; `head_yaw_deg` about the
  vertical axis, positive when the face turns to the image's left (the signer's right);
  `head_roll_deg` about the camera axis, positive when the head tilts toward the image's
  right (the signer's left shoulder).
- Distances are divided by the inter-ocular distance (centre of one eye to the other) of the
  same frame, so they do not depend on image size or distance to the camera; `inter_ocular_px`
  keeps the scale. Brow height: vertical distance from the eye's centre up to the brow point
  (inner: the brow's end nearest the nose, outer: the far end); left and right are the
  signer's. Eye aperture: lid-to-lid distance. Mouth opening: inner-lip distance.
- `scores` holds the source's own named scores: MediaPipe's 52 blendshapes by their names
  (`browInnerUp`, ...), OpenFace's action units by their column names (`AU01_r`, `AU01_c`).
- `landmarks_x`/`landmarks_y` are pixel coordinates in the source's own landmark order
  (MediaPipe's 478, OpenFace's 68), null when the source gave none.
"""

from __future__ import annotations

import pyarrow as pa

#: The derived, normalised measures every source fills when it can (null when it cannot).
MEASURES: tuple[str, ...] = (
    "head_pitch_deg",
    "head_yaw_deg",
    "head_roll_deg",
    "brow_inner_left",
    "brow_inner_right",
    "brow_outer_left",
    "brow_outer_right",
    "eye_aperture_left",
    "eye_aperture_right",
    "mouth_opening",
)

#: Where the measures came from: the engine run on video, or a tracker's CSV.
SOURCES: tuple[str, ...] = ("mediapipe", "openface_csv", "mediapipe_csv")

FACE_FRAMES_SCHEMA = pa.schema(
    [
        ("media_file", pa.string()),
        ("media_hash", pa.string()),
        ("source", pa.string()),
        ("source_file", pa.string()),
        ("model_hash", pa.string()),
        ("video_frame", pa.int32()),
        ("time_ms", pa.float64()),
        ("face_id", pa.int32()),
        ("face_found", pa.bool_()),
        ("confidence", pa.float64()),
        ("inter_ocular_px", pa.float64()),
        *[(measure, pa.float64()) for measure in MEASURES],
        ("scores", pa.map_(pa.string(), pa.float32())),
        ("landmarks_x", pa.list_(pa.float32())),
        ("landmarks_y", pa.list_(pa.float32())),
    ]
)
