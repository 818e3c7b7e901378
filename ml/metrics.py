"""Precision, recall, F1 and support per label and averaged, from pooled out-of-fold predictions.

Every fold's test predictions are pooled and scored once (not averaged per fold), so a
label that is rare in some folds still counts each frame once. Rows may be collapsed:
`sample_weight` is the number of frames a row stands for, which makes weighted metrics
equal to the per-frame ones (see `ml.collapse`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

AVERAGES = ("micro", "macro", "weighted")


@dataclass(frozen=True)
class Score:
    """One row of a classification report."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """Per-label scores and the micro / macro / weighted averages."""

    per_label: list[Score]
    averages: dict[str, Score]

    def rows(self) -> list[Score]:
        """Labels first, then `micro avg`, `macro avg`, `weighted avg` (sklearn's names)."""
        return [*self.per_label, *(self.averages[a] for a in AVERAGES)]


def score(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    labels: list[str],
    sample_weight: np.ndarray | None = None,
) -> Report:
    """Multi-label report; undefined precision or recall (nothing predicted / present) is 0."""
    extra: dict[str, object] = {}
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        # One label: scikit-learn would read a single 0/1 column as a binary problem and
        # score both classes; score the positive class only, as for many labels.
        y_true, y_pred, extra = y_true.ravel(), y_pred.ravel(), {"labels": [1]}
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, average=None, sample_weight=sample_weight, zero_division=0, **extra
    )
    per_label = [
        Score(name, float(pi), float(ri), float(fi), round(float(si)))
        for name, pi, ri, fi, si in zip(labels, p, r, f, s, strict=True)
    ]
    total_support = round(float(np.sum(s)))
    averages = {}
    for average in AVERAGES:
        pa, ra, fa, _ = precision_recall_fscore_support(
            y_true, y_pred, average=average, sample_weight=sample_weight, zero_division=0,
            **extra,
        )
        averages[average] = Score(f"{average} avg", float(pa), float(ra), float(fa), total_support)
    return Report(per_label=per_label, averages=averages)
