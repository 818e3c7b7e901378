"""How faces are found (`DetectorSettings`) and fer's detection defaults, apart from the
detector: the CLI shows the settings' defaults at start-up, which must not load numpy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["exact", "fast"]

# fer.FER defaults (fer/fer.py: PADDING, __init__ arguments, find_faces).
CASCADE_FILE = "haarcascade_frontalface_default.xml"  # from cv2.data, as fer's default
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 5
MIN_FACE = 50
PADDING = 40
OFFSETS = (10, 10)


@dataclass(frozen=True)
class DetectorSettings:
    """How faces are found; `canonical()` is part of the cache key of every stored result."""

    mode: Mode = "exact"
    fast_scale: float = 0.5
    redetect_every: int = 5
    rescan_every: int = 30  # fast mode: full-frame scan at least this often (frames)

    def __post_init__(self) -> None:
        if self.mode not in ("exact", "fast"):
            raise ValueError(f"mode must be 'exact' or 'fast', not {self.mode!r}")
        if not 0 < self.fast_scale <= 1:
            raise ValueError("fast_scale must be in (0, 1]")
        if self.redetect_every < 1:
            raise ValueError("redetect_every must be at least 1")
        if self.rescan_every < 1:
            raise ValueError("rescan_every must be at least 1")

    @property
    def scan_keys(self) -> int:
        """Fast mode: keyframes from one full-frame scan to the next."""
        return max(1, self.rescan_every // self.redetect_every)

    @property
    def restart_period(self) -> int:
        """Frames between points where detection keeps no memory of earlier frames.

        A chunk of a video that starts on a multiple of this (and, in fast mode, decodes one
        frame past its end to close its last segment) gets exactly the whole video's boxes.
        """
        return self.redetect_every * self.scan_keys if self.mode == "fast" else 1

    def canonical(self) -> str:
        """Short, stable description, e.g. 'exact;haar=frontalface_default;sf=1.1;...'."""
        base = (
            f"haar={CASCADE_FILE.removeprefix('haarcascade_').removesuffix('.xml')};"
            f"sf={SCALE_FACTOR:g};mn={MIN_NEIGHBORS};min={MIN_FACE};"
            f"pad={PADDING};off={OFFSETS[0]},{OFFSETS[1]}"
        )
        if self.mode == "exact":
            return f"exact;{base}"
        return (
            f"fast;scale={self.fast_scale:g};every={self.redetect_every};"
            f"rescan={self.rescan_every};refine=roi;{base}"
        )
