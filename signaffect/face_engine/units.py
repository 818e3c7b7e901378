"""Face work units for FER's engines: the face alone, or FER and the face over one decode.

Why: the engines, shards and chunking are FER's (signaffect/fer_engine/units.py), so a face
run is scheduled, retried, cached and resumed exactly as a FER run; a JointUnit hands each
frame FER decodes to the face engine as well (a FrameTap), so running both decodes once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signaffect.face_engine.model import FaceLandmarker
from signaffect.face_engine.video import FaceRows, FaceSettings, analyse_face_video
from signaffect.fer_engine.units import FerUnit, UnitResult, VideoSpan
from signaffect.fer_engine.video import FerVideoError, probe_video


@dataclass(frozen=True)
class FaceUnit(VideoSpan[FaceSettings]):
    """Face measures over a span of one video."""

    def landmarker_checked(self) -> FaceLandmarker:
        """A landmarker for this unit (the caller closes it; loading takes a fraction of a
        second, a unit minutes), refused if its model is not the driver's."""
        landmarker = self.settings.landmarker()
        if landmarker.hash != self.key.model_hash:
            landmarker.close()
            raise RuntimeError(
                f"this worker's face model differs from the driver's ({self.path})"
            )
        return landmarker

    def analyse(self, *, threads: int | None = 1, progress: Any = None) -> list[UnitResult]:
        """The face rows of the unit's frames (one core whatever `threads`: MediaPipe's
        graph runs one frame at a time)."""
        started = time.perf_counter()
        try:
            with self.landmarker_checked() as landmarker:
                table = analyse_face_video(
                    self.path,
                    landmarker=landmarker,
                    content_hash=self.key.video_hash,
                    start=self.start,
                    stop=self.stop,
                    progress=progress,
                )
        except FerVideoError as exc:
            return [UnitResult(self, None, str(exc), time.perf_counter() - started)]
        return [UnitResult(self, table, None, time.perf_counter() - started)]


@dataclass(frozen=True)
class JointUnit:
    """The same frames through FER and the face engine, decoded once."""

    fer: FerUnit
    face: FaceUnit

    def __post_init__(self) -> None:
        if (self.fer.path, self.fer.start, self.fer.stop) != (
            self.face.path, self.face.start, self.face.stop
        ):
            raise ValueError("a joint unit's FER and face parts must cover the same frames")

    @property
    def path(self) -> str:
        return self.fer.path

    @property
    def start(self) -> int:
        return self.fer.start

    @property
    def stop(self) -> int | None:
        return self.fer.stop

    @property
    def parts(self) -> tuple[FerUnit, FaceUnit]:
        return (self.fer, self.face)

    def analyse(self, *, threads: int | None = 1, progress: Any = None) -> list[UnitResult]:
        """FER's results, then the face's; each part's elapsed time is its own share."""
        try:
            fps = probe_video(Path(self.path)).fps
        except FerVideoError as exc:
            return [UnitResult(part, None, str(exc), 0.0) for part in self.parts]
        spent = [0.0]
        with self.face.landmarker_checked() as landmarker:
            rows = FaceRows(landmarker, fps)

            def tap(index: int, frame: Any) -> None:
                started = time.perf_counter()
                rows.add(index, frame)
                spent[0] += time.perf_counter() - started

            (fer,) = self.fer.analyse(threads=threads, progress=progress, tap=tap)
        fer.elapsed_s -= spent[0]
        if fer.table is None:
            return [fer, UnitResult(self.face, None, fer.error, spent[0])]
        meta = {k.decode(): v.decode() for k, v in (fer.table.schema.metadata or {}).items()}
        table = rows.table(Path(self.path), str(self.face.key.video_hash), meta)
        return [fer, UnitResult(self.face, table, None, spent[0])]
