"""The verdict: is the model better than guessing each label at its prior, on unseen stories?

Frames are not independent (a story's frames share its labels and its signer), so the
uncertainty comes from a cluster bootstrap over held-out stories: draw the stories with
replacement, pool every out-of-fold row of the drawn stories (a story drawn twice counts
twice), and recompute micro-F1 for the model and for the label-prior (stratified) baseline
from the same draw. The paired difference per draw gives the interval that decides the
reading. Intervals are percentile intervals.

The baseline is the stratified draws actually stored with the predictions (one label set
per test frame, seeded per fold), not its expected F1: the verdict then compares two sets
of stored predictions, and the draws' own noise is part of the interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.metrics import error_counts, micro_f1_of_counts
from ml.oof import OutOfFold, Predictions

ABOVE = "above baseline"
BELOW = "below baseline"
TIED = "not distinguishable from baseline"
READINGS = (ABOVE, TIED, BELOW)
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate (the full sample) and its 95% bootstrap interval."""

    estimate: float
    low: float
    high: float

    def text(self, signed: bool = False) -> str:
        fmt = "+.3f" if signed else ".3f"
        return f"{self.estimate:{fmt}} [{self.low:{fmt}}, {self.high:{fmt}}]"


@dataclass(frozen=True)
class Verdict:
    """Model and baseline micro-F1, their paired difference, and the one-line reading."""

    model: Interval
    baseline: Interval
    difference: Interval
    reading: str
    n_stories: int
    resamples: int
    #: What the scores are measured on, e.g. "held-out stories" (see HELD_OUT).
    held_out: str = "held-out stories"
    #: Permutation test (ml.permutation): p-value and how many permutations, or None / 0.
    p_value: float | None = None
    permutations: int = 0

    def sentence(self, model_name: str) -> str:
        """The verdict in words, numbers first-class: the line every output leads with."""
        test = (
            f"; permutation test p = {self.p_value:.3f} ({self.permutations} story "
            "permutations)"
            if self.p_value is not None
            else ""
        )
        return (
            f"Verdict: {model_name} is {self.reading} on {self.held_out}. Micro-F1 "
            f"{self.model.text()} vs label-prior baseline {self.baseline.text()}; "
            f"difference {self.difference.text(signed=True)} (95% CIs, bootstrap over "
            f"{self.n_stories} stories, {self.resamples} resamples){test}."
        )


def story_counts(predictions: Predictions, n_stories: int) -> np.ndarray:
    """Summed (TP, FP, FN) of every story's out-of-fold rows: stories x 3."""
    counts = error_counts(predictions.y_true, predictions.y_pred, predictions.weight)
    return np.stack(
        [np.bincount(predictions.story, counts[:, k], minlength=n_stories) for k in range(3)],
        axis=1,
    )


def resample_stories(stories: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Bootstrap draws of the held-out stories: resamples x len(stories) story indices."""
    rng = np.random.default_rng(seed)
    return stories[rng.integers(0, len(stories), size=(resamples, len(stories)))]


def interval(estimate: float, draws: np.ndarray) -> Interval:
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(float(estimate), float(low), float(high))


def reading(difference: Interval) -> str:
    """Above or below when the difference's interval excludes 0, else not distinguishable."""
    if difference.low > 0:
        return ABOVE
    if difference.high < 0:
        return BELOW
    return TIED


#: What each CV holds out, as the verdict says it (kfold holds out frames, not stories).
HELD_OUT = {
    "story": "held-out stories",
    "utterance": "held-out utterances",
    "signer": "held-out signers",
    "kfold": "held-out frames of stories it also trained on (kfold)",
}


def decide(oof: OutOfFold, resamples: int, seed: int, cv: str = "story") -> Verdict:
    """The verdict from the stored out-of-fold predictions of the model and the baseline."""
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    n = len(oof.stories)
    model = story_counts(oof.predictions[oof.model], n)
    baseline = story_counts(oof.predictions["stratified"], n)
    held_out = np.flatnonzero(np.bincount(oof.predictions[oof.model].story, minlength=n))
    draws = resample_stories(held_out, resamples, seed)
    times = np.stack([np.bincount(row, minlength=n) for row in draws])  # resamples x stories
    model_f1 = micro_f1_of_counts(times @ model)
    baseline_f1 = micro_f1_of_counts(times @ baseline)
    model_all = float(micro_f1_of_counts(model.sum(axis=0)))
    baseline_all = float(micro_f1_of_counts(baseline.sum(axis=0)))
    difference = interval(model_all - baseline_all, model_f1 - baseline_f1)
    return Verdict(
        model=interval(model_all, model_f1),
        baseline=interval(baseline_all, baseline_f1),
        difference=difference,
        reading=reading(difference),
        n_stories=len(held_out),
        resamples=resamples,
        held_out=HELD_OUT[cv],
    )
