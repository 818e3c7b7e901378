"""The random forest and the two baselines, configured in one place.

The forest is scikit-learn's native multi-output RandomForestClassifier (one forest, one
output per label), as in the study. `fit_forest_on_rows` grows the very same forest from
collapsed rows (see `ml.bagging`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier

from ml.bagging import fit_on_rows
from ml.collapse import UniqueRows
from ml.options import ClassWeight


@dataclass(frozen=True)
class ForestSettings:
    """What a user may change about the forest; everything else is scikit-learn's default."""

    n_estimators: int = 100
    max_depth: int | None = None
    class_weight: ClassWeight = ClassWeight.none
    seed: int = 0
    n_jobs: int = -1

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["class_weight"] = self.class_weight.value
        return out


def make_forest(settings: ForestSettings) -> RandomForestClassifier:
    """An unfitted forest with the user's settings."""
    return RandomForestClassifier(
        n_estimators=settings.n_estimators,
        max_depth=settings.max_depth,
        class_weight=None
        if settings.class_weight is ClassWeight.none
        else settings.class_weight.value,
        random_state=settings.seed,
        n_jobs=settings.n_jobs,
    )


def fit_forest(settings: ForestSettings, X: np.ndarray, Y: np.ndarray) -> RandomForestClassifier:
    """Fit on frames one by one: the plain fit the benchmark compares against."""
    return make_forest(settings).fit(X, Y.ravel() if Y.shape[1] == 1 else Y)


def fit_forest_on_rows(
    settings: ForestSettings, rows: UniqueRows, frames: np.ndarray
) -> RandomForestClassifier:
    """The forest `fit_forest` gives on `frames`, tree for tree, grown on their distinct rows."""
    return fit_on_rows(make_forest(settings), rows, frames)


def predict(forest: RandomForestClassifier, X: np.ndarray) -> np.ndarray:
    """0/1 predictions, always 2-D (frames x labels), even for a single label."""
    return np.asarray(forest.predict(X)).reshape(X.shape[0], -1).astype(np.uint8)


def fit_baseline(
    strategy: str, Y: np.ndarray, sample_weight: np.ndarray | None, seed: int
) -> DummyClassifier:
    """`stratified` (random draws at each label's training prior) or `most_frequent`."""
    dummy = DummyClassifier(strategy=strategy, random_state=seed)
    dummy.fit(np.zeros((Y.shape[0], 1)), Y.ravel() if Y.shape[1] == 1 else Y,
              sample_weight=sample_weight)
    return dummy


def predict_baseline(dummy: DummyClassifier, n_rows: int) -> np.ndarray:
    """0/1 predictions for `n_rows` rows (baselines ignore the inputs)."""
    return np.asarray(dummy.predict(np.zeros((n_rows, 1)))).reshape(n_rows, -1).astype(np.uint8)
