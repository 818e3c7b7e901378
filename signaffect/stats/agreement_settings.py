"""The settings of `cli.py agree`'s statistics, apart from them: the CLI reads their defaults
at start-up, which must not load numpy and scipy for every command."""

from __future__ import annotations

from dataclasses import dataclass

from signaffect.core.settings import BOOTSTRAP_RESAMPLES


@dataclass(frozen=True)
class AgreementSettings:
    """Onset tolerance and shortest predicted event (frames), bootstrap draws, seed, level."""

    tolerance: int = 5
    min_event_frames: int = 3
    resamples: int = BOOTSTRAP_RESAMPLES
    seed: int = 42
    confidence: float = 0.95
