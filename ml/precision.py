"""Average precision per label against its prevalence, with the verdict's story bootstrap.

F1 judges the 0/1 predictions at one threshold; average precision (AP) judges the model's
scores (P(label) of the forest or the logistic regression) at every threshold, and a
ranking that knows nothing scores the label's prevalence. So each label's AP is set beside
its prevalence among the held-out units, and the difference gets a story-bootstrap
interval with the same draws as the verdict (`ml.verdict.story_draws`).

AP is scikit-learn's `average_precision_score` with frame weights (tests/test_ml.py
compares): over the distinct scores from high to low, the sum of precision at each
threshold times the recall it adds. Rows with one score in one story are summed first, so
every draw is a product of story weights with a stories x thresholds table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.oof import OutOfFold
from ml.verdict import Interval, interval, story_draws

ABOVE = "above prevalence"
BELOW = "below prevalence"
TIED = "not distinguishable from prevalence"
NOT_ESTIMABLE = "not estimable"
#: Draws x thresholds cells computed at once.
_CHUNK_CELLS = 4_000_000


@dataclass(frozen=True)
class LabelPrecision:
    """One label's AP and prevalence over the held-out units, and AP minus prevalence."""

    label: str
    prevalence: float
    average_precision: Interval | None  # None: no held-out unit has the label
    gain: Interval | None  # AP minus prevalence
    reading: str


def label_precisions(
    oof: OutOfFold, labels: list[str], resamples: int, seed: int
) -> list[LabelPrecision]:
    """AP against prevalence for every label, from the model's stored scores."""
    predictions = oof.predictions[oof.model]
    if predictions.score is None:
        raise ValueError(f"{oof.model} has no stored scores")
    _, times = story_draws(oof, resamples, seed)
    every = np.vstack([np.ones(len(oof.stories)), times])  # row 0: the full sample
    return [
        _one_label(label, _by_threshold(predictions.score[:, k], predictions.y_true[:, k],
                                        predictions.weight, predictions.story,
                                        len(oof.stories)), every)
        for k, label in enumerate(labels)
    ]


def _by_threshold(
    score: np.ndarray, truth: np.ndarray, weight: np.ndarray, story: np.ndarray,
    n_stories: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Positive and negative frame weight per story and threshold (stories x thresholds,
    highest score first).

    A score held by no positive unit adds no recall, so its negatives are merged into the
    next score that has a positive (where they count as false positives all the same); the
    scores below the last positive form one last column. AP is unchanged, and a rare
    label has a few columns instead of one per distinct score.
    """
    _, threshold = np.unique(-np.asarray(score, dtype=np.float64), return_inverse=True)
    threshold = threshold.ravel()
    with_positive = np.unique(threshold[truth == 1])
    threshold = np.searchsorted(with_positive, threshold)
    n_thresholds = len(with_positive) + 1
    cell = story * n_thresholds + threshold
    size = n_stories * n_thresholds
    positive = np.bincount(cell, weight * (truth == 1), minlength=size)
    negative = np.bincount(cell, weight * (truth != 1), minlength=size)
    return positive.reshape(n_stories, -1), negative.reshape(n_stories, -1)


def _one_label(
    label: str, tables: tuple[np.ndarray, np.ndarray], times: np.ndarray
) -> LabelPrecision:
    positive, negative = tables
    ap, prevalence = _average_precision(positive, negative, times)
    if np.isnan(ap[0]):  # the label is absent from the held-out units
        return LabelPrecision(label, float(prevalence[0]), None, None, NOT_ESTIMABLE)
    drawn = ~np.isnan(ap[1:])  # draws without a unit that has the label leave the interval
    gain = interval(float(ap[0] - prevalence[0]), (ap - prevalence)[1:][drawn])
    reading = ABOVE if gain.above_zero else BELOW if gain.below_zero else TIED
    return LabelPrecision(label, float(prevalence[0]), interval(float(ap[0]), ap[1:][drawn]),
                          gain, reading)


def _average_precision(
    positive: np.ndarray, negative: np.ndarray, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """AP and prevalence for each row of story weights `times` (NaN AP where a draw holds
    no positive unit; those draws leave the interval)."""
    ap = np.empty(len(times))
    prevalence = np.empty(len(times))
    step = max(1, _CHUNK_CELLS // positive.shape[1])
    for start in range(0, len(times), step):
        part = times[start : start + step]
        gained = part @ positive  # draws x thresholds: positive weight at each threshold
        tp = np.cumsum(gained, axis=1)
        predicted = tp + np.cumsum(part @ negative, axis=1)
        precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
        total = tp[:, -1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ap[start : start + step] = (gained * precision).sum(axis=1) / total
            prevalence[start : start + step] = total / predicted[:, -1]
    ap[~(prevalence > 0)] = np.nan
    return ap, prevalence
