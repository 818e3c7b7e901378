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
from sklearn.inspection import permutation_importance

from ml.lookup import Lookup, Recorder
from ml.metrics import micro_f1

Predictor = Lookup | Recorder

IMPURITY = "impurity"
PERMUTATION = "permutation"


def _micro_f1_scorer(
    estimator: Predictor,
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
    model: Predictor, X_test: np.ndarray, Y_test: np.ndarray, repeats: int, seed: int
) -> FoldImportance:
    """Permutation importance of `model` on one fold's test frames (never its training frames).

    `model` answers from a table of predictions (`ml.lookup`); the same seed replays the
    same shuffles.
    """
    result = permutation_importance(
        model,
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
