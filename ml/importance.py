"""Permutation importance on held-out frames: how much micro-F1 drops when one input is shuffled.

Impurity importance comes from the forest fitted on every frame: it says what the forest
split on, whatever the CV, and it exists even when the model has no skill. Permutation
importance is measured per fold on that fold's test frames only, with the fold's model
(`sklearn.inspection.permutation_importance`, scored by weighted micro-F1), and averaged
over folds weighted by their test frames. It therefore says what the model's held-out
score depends on; when the model is not above its baseline, that is close to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.inspection import permutation_importance

from ml.collapse import row_keys
from ml.metrics import micro_f1
from ml.model import predict

IMPURITY = "impurity"
PERMUTATION = "permutation"


class DistinctInputs:
    """A fitted model that predicts each distinct input row once.

    Inputs are 0/1 and neighbouring frames repeat, so a fold's ~18k test frames have a
    few hundred distinct inputs; predicting those and indexing back gives every frame's
    prediction, unchanged, at a fraction of the cost.
    """

    def __init__(self, model: ClassifierMixin) -> None:
        self.model = model

    def fit(self, X: np.ndarray, y: np.ndarray) -> DistinctInputs:  # sklearn's interface
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        _, first, inverse = np.unique(row_keys(X != 0), return_index=True, return_inverse=True)
        return predict(self.model, X[first])[inverse.ravel()]


def _micro_f1_scorer(
    estimator: DistinctInputs,
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> float:
    return micro_f1(y, estimator.predict(X), sample_weight)


@dataclass(frozen=True)
class FoldImportance:
    """Mean and standard deviation of the drop in micro-F1 per input, on one test fold."""

    mean: np.ndarray
    std: np.ndarray
    n_frames: int


def held_out_importance(
    model: ClassifierMixin, X_test: np.ndarray, Y_test: np.ndarray, repeats: int, seed: int
) -> FoldImportance:
    """Permutation importance of `model` on one fold's test frames (never its training frames)."""
    result = permutation_importance(
        DistinctInputs(model),
        X_test,
        Y_test,
        scoring=_micro_f1_scorer,
        n_repeats=repeats,
        random_state=seed,
    )
    return FoldImportance(result.importances_mean, result.importances_std, len(X_test))


def pool_folds(folds: list[FoldImportance]) -> tuple[np.ndarray, np.ndarray]:
    """Per input: the folds' mean drops and standard deviations, weighted by test frames."""
    weight = np.array([f.n_frames for f in folds], dtype=np.float64)
    mean = np.average(np.stack([f.mean for f in folds]), axis=0, weights=weight)
    std = np.average(np.stack([f.std for f in folds]), axis=0, weights=weight)
    return mean, std
