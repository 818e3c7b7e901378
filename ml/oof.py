"""Pooled out-of-fold predictions, each row kept with its weight, story and fold.

Every number `train` reports is computed from these arrays and nothing else: the pooled
scores, the per-fold scores and the verdict's story bootstrap. A row stands for the test
frames of one story with identical inputs and labels (`ml.collapse.held_out_units`), or
for one frame where predictions are drawn per frame (the stratified baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.metrics import Report, score


@dataclass(frozen=True)
class Predictions:
    """One model's out-of-fold predictions: rows x labels, with what each row stands for."""

    y_true: np.ndarray  # rows x labels, uint8 0/1
    y_pred: np.ndarray  # rows x labels, uint8 0/1
    weight: np.ndarray  # frames each row stands for
    story: np.ndarray  # story index of each row (into OutOfFold.stories)
    fold: np.ndarray  # fold each row was tested in

    @classmethod
    def pool(cls, parts: list[Predictions]) -> Predictions:
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in _FIELDS))

    def where(self, mask: np.ndarray) -> Predictions:
        return Predictions(*(getattr(self, name)[mask] for name in _FIELDS))

    def report(self, labels: list[str]) -> Report:
        return score(self.y_true, self.y_pred, labels, self.weight)


_FIELDS = ("y_true", "y_pred", "weight", "story", "fold")


@dataclass(frozen=True)
class OutOfFold:
    """The pooled predictions of the model and both baselines over the same folds."""

    model: str  # key of the trained model in `predictions` (random_forest or logreg)
    stories: list[str]
    n_folds: int
    predictions: dict[str, Predictions]  # model, "stratified", "majority"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.model, "stratified", "majority")
