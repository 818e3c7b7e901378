"""Face detection and face crops for FER: fer's exact Haar recipe, and a fast approximation.

Why: exact mode must reproduce `fer.FER.detect_emotions` (fer 25.10.3, default detector)
step by step so its scores equal fer's. The Haar cascade over every full-resolution frame is
~90 % of fer's run time, so fast mode works on every k-th frame (a keyframe) only: it re-finds
the previous keyframe's faces with fer's cascade in a small full-resolution window around each,
scans the whole (downscaled) frame only every `rescan_every` frames or when a face is lost,
and interpolates boxes in between. Crops and scores always come from the full-resolution frame.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING

import numpy as np

from signaffect.fer_engine.detector_settings import (
    CASCADE_FILE,
    MIN_FACE,
    MIN_NEIGHBORS,
    OFFSETS,
    PADDING,
    SCALE_FACTOR,
    DetectorSettings,
)
from signaffect.fer_engine.model import INPUT_SIZE

if TYPE_CHECKING:  # OpenCV loads when a face is first detected, not with the FER tables
    import cv2

Box = tuple[int, int, int, int]  # x, y, w, h in full-frame pixels, as detectMultiScale returns
# Fast mode: the refinement window around a coarse box, and the scale band searched in it.
REFINE_MARGIN = 0.5  # of the box side, on every side
REFINE_BAND = 1.8  # search face sizes in [side / band, side * band]
# Two boxes are the same face when their centres are within SAME_FACE_SHIFT of the larger
# side and their sides within SAME_FACE_RATIO (a head moves ≲ 10 px a frame at 30 fps).
SAME_FACE_SHIFT = 0.75
SAME_FACE_RATIO = 1.5


class HaarDetector:
    """fer's Haar detection; one CascadeClassifier per thread (a shared one is not thread-safe:
    concurrent detectMultiScale calls on one instance return wrong boxes)."""

    def __init__(self, cascade_path: str | None = None) -> None:
        import cv2

        self.cascade_path = cascade_path or cv2.data.haarcascades + CASCADE_FILE  # type: ignore[attr-defined]
        self._local = threading.local()
        self._classifier()  # fail early on a missing cascade file

    def _classifier(self) -> cv2.CascadeClassifier:
        classifier = getattr(self._local, "classifier", None)
        if classifier is None:
            import cv2

            classifier = cv2.CascadeClassifier(self.cascade_path)
            if classifier.empty():
                raise RuntimeError(f"cannot load Haar cascade {self.cascade_path}")
            self._local.classifier = classifier
        return classifier

    def _run(self, gray: np.ndarray, min_side: int, max_side: int = 0) -> list[Box]:
        import cv2

        found = self._classifier().detectMultiScale(
            gray,
            scaleFactor=SCALE_FACTOR,
            minNeighbors=MIN_NEIGHBORS,
            flags=cv2.CASCADE_SCALE_IMAGE,
            minSize=(min_side, min_side),
            maxSize=(max_side, max_side),
        )
        return [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]

    def detect(self, gray: np.ndarray) -> list[Box]:
        """fer.FER.find_faces on the full-resolution gray frame."""
        return self._run(gray, MIN_FACE)

    def refine(self, gray: np.ndarray, approx: Box) -> Box | None:
        """Re-detect one coarse face at full resolution in a small window around it."""
        x, y, w, h = approx
        side = max(w, h)
        margin = round(REFINE_MARGIN * side)
        height, width = gray.shape[:2]
        x0, y0 = max(0, x - margin), max(0, y - margin)
        x1, y1 = min(width, x + w + margin), min(height, y + h + margin)
        lo = max(MIN_FACE, int(side / REFINE_BAND))
        hi = int(side * REFINE_BAND) + 1
        if x1 - x0 < lo or y1 - y0 < lo:
            return None
        found = self._run(gray[y0:y1, x0:x1], lo, hi)
        boxes = [(bx + x0, by + y0, bw, bh) for bx, by, bw, bh in found]
        best = min(boxes, key=lambda b: face_distance(b, approx), default=None)
        return best if best is not None and same_face(best, approx) else None

    def detect_fast(self, gray: np.ndarray, scale: float) -> list[Box]:
        """Detect on the frame downscaled by `scale`, then refine each face at full resolution."""
        if scale >= 1:
            return self.detect(gray)
        import cv2

        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        coarse = self._run(small, max(1, round(MIN_FACE * scale)))
        boxes: list[Box] = []
        for bx, by, bw, bh in coarse:
            approx = (round(bx / scale), round(by / scale), round(bw / scale), round(bh / scale))
            box = self.refine(gray, approx) or approx
            if box not in boxes:
                boxes.append(box)
        return boxes


def _track(
    detector: HaarDetector,
    gray: np.ndarray,
    previous: Future[list[Box]] | None,
    scale: float,
    rescan: bool,
) -> list[Box]:
    """Keyframe boxes: re-find the previous keyframe's faces in small windows (~5x cheaper
    than a scan); scan the whole frame when due, when there were none, or when one is lost."""
    prior = previous.result() if previous is not None else []
    if prior and not rescan:
        found = [detector.refine(gray, box) for box in prior]
        boxes: list[Box] = []
        for box in found:
            if box is None:
                break
            if box not in boxes:
                boxes.append(box)
        else:
            return boxes
    return detector.detect_fast(gray, scale)


def face_distance(a: Box, b: Box) -> float:
    """Distance between box centres in units of the larger side."""
    side = max(a[2], a[3], b[2], b[3], 1)
    dx = (a[0] + a[2] / 2) - (b[0] + b[2] / 2)
    dy = (a[1] + a[3] / 2) - (b[1] + b[3] / 2)
    return float(np.hypot(dx, dy)) / side


def same_face(a: Box, b: Box) -> bool:
    """Whether two boxes (in frames a few apart) plausibly frame the same face."""
    small, large = sorted((max(a[2], a[3]), max(b[2], b[3])))
    return face_distance(a, b) <= SAME_FACE_SHIFT and large <= SAME_FACE_RATIO * max(small, 1)


def match_boxes(a: list[Box], b: list[Box]) -> dict[int, int]:
    """Pair boxes of a with the same faces in b, nearest first; unpaired boxes are left out."""
    candidates = sorted(
        (face_distance(p, q), i, j) for i, p in enumerate(a) for j, q in enumerate(b)
    )
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in candidates:
        if not same_face(a[i], b[j]):
            continue
        if i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)
    return pairs


def interpolate(a: Box, b: Box, t: float) -> Box:
    """The box a fraction t of the way from a to b (faces move smoothly between keyframes)."""
    x, y, w, h = (round(p + t * (q - p)) for p, q in zip(a, b, strict=True))
    return x, y, w, h


def detect_stream(
    grays: Iterable[np.ndarray],
    settings: DetectorSettings,
    detector: HaarDetector,
    pool: Executor,
    workers: int,
) -> Iterator[tuple[np.ndarray, list[Box]]]:
    """Yield (gray, boxes) for each frame in order, detecting on `workers` threads ahead."""
    if settings.mode == "exact":
        window: deque[tuple[np.ndarray, Future[list[Box]]]] = deque()
        for gray in grays:
            window.append((gray, pool.submit(detector.detect, gray)))
            if len(window) > 2 * workers:
                head, future = window.popleft()
                yield head, future.result()
        while window:
            head, future = window.popleft()
            yield head, future.result()
        return

    # Keyframes form a chain (each tracks the previous one's faces): jobs start in order,
    # so a job only ever waits on one already running, and decoding overlaps detection.
    every, scale, scan_keys = settings.redetect_every, settings.fast_scale, settings.scan_keys
    buf: deque[list] = deque()  # [gray, Future | None]; keyframes carry a Future
    keys = 0
    previous: Future[list[Box]] | None = None
    for i, gray in enumerate(grays):
        job: Future[list[Box]] | None = None
        if i % every == 0:
            rescan = (i // every) % scan_keys == 0
            job = previous = pool.submit(_track, detector, gray, previous, scale, rescan)
            keys += 1
        buf.append([gray, job])
        while keys > workers + 1:
            yield from _flush_segment(buf, detector, pool)
            keys -= 1
    if buf and buf[-1][1] is None:  # the last frame closes the last segment
        buf[-1][1] = pool.submit(_track, detector, buf[-1][0], previous, scale, False)
    while buf:
        yield from _flush_segment(buf, detector, pool)


def _flush_segment(
    buf: deque[list], detector: HaarDetector, pool: Executor
) -> Iterator[tuple[np.ndarray, list[Box]]]:
    """Emit the leading keyframe and the frames before the next keyframe.

    Faces found in both keyframes get interpolated boxes; a face in only one of them
    (appearing, vanishing, or a detector flicker) is looked for in each frame in between
    with the cheap full-resolution refinement around its keyframe box.
    """
    gray, future = buf.popleft()
    start: list[Box] = future.result()
    yield gray, start
    inner = []
    while buf and buf[0][1] is None:
        inner.append(buf.popleft()[0])
    if not inner:
        return
    end: list[Box] = buf[0][1].result()
    pairs = match_boxes(start, end)
    lonely = [b for i, b in enumerate(start) if i not in pairs]
    lonely += [b for j, b in enumerate(end) if j not in pairs.values()]
    steps = len(inner) + 1

    def boxes_at(n: int, frame: np.ndarray) -> list[Box]:
        boxes = [interpolate(start[i], end[j], n / steps) for i, j in pairs.items()]
        for approx in lonely:
            found = detector.refine(frame, approx)
            if found is not None and not any(same_face(found, b) for b in boxes):
                boxes.append(found)
        return boxes

    if lonely:
        results = pool.map(boxes_at, range(1, steps), inner)
    else:
        results = map(boxes_at, range(1, steps), inner)
    yield from zip(inner, results, strict=True)


def pad(gray: np.ndarray) -> np.ndarray:
    """fer.FER.pad: 40 px constant border valued at the mean of the bottom two rows."""
    import cv2

    rows, cols = gray.shape[:2]
    mean = cv2.mean(gray[rows - 2 : rows, 0:cols])[0]
    return cv2.copyMakeBorder(
        gray, PADDING, PADDING, PADDING, PADDING, cv2.BORDER_CONSTANT, value=[mean, mean, mean]
    )


def to_square(box: Box) -> Box:
    """fer.FER.tosquare: grow the shorter side, centred (floor division, as fer)."""
    x, y, w, h = box
    if h > w:
        diff = h - w
        x -= diff // 2
        w += diff
    elif w > h:
        diff = w - h
        y -= diff // 2
        h += diff
    return x, y, w, h


def crop_face(padded: np.ndarray, box: Box) -> np.ndarray | None:
    """fer's crop: square box, 10 px offsets, shift by the padding, clamp the top-left at 0,
    resize to 64x64; None where fer's resize fails and fer drops the face."""
    import cv2

    x, y, w, h = to_square(box)
    x_off, y_off = OFFSETS
    x1, x2 = x - x_off + PADDING, x + w + x_off + PADDING
    y1, y2 = y - y_off + PADDING, y + h + y_off + PADDING
    face = padded[max(0, y1) : y2, max(0, x1) : x2]
    try:
        return cv2.resize(face, INPUT_SIZE)
    except cv2.error:
        return None


def face_crops(gray: np.ndarray, boxes: list[Box]) -> tuple[list[Box], list[np.ndarray]]:
    """The boxes fer keeps and their 64x64 uint8 crops, in detection order."""
    if not boxes:
        return [], []
    padded = pad(gray)
    kept, crops = [], []
    for box in boxes:
        crop = crop_face(padded, box)
        if crop is not None:
            kept.append(box)
            crops.append(crop)
    return kept, crops
