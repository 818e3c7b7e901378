"""Pooled out-of-fold predictions, each row kept with its weight, story and fold.

Every number `train` reports is computed from these arrays and nothing else: the pooled
scores, the per-fold scores, the average precisions and the verdict's story bootstrap. A
row stands for the test frames of one story with identical inputs and labels
(`ml.collapse.held_out_units`), or for one frame where predictions are drawn per frame
(the stratified baseline). `OutOfFold.frame_rows` maps every test frame back to its row,
so the same predictions can be stored one row per frame (`ml.oof_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.metrics import Report, score

STRATIFIED = "stratified"  # a label set drawn at the training frames' label priors
MAJORITY = "majority"  # the training frames' most frequent label set
ALL_POSITIVE = "all_positive"  # every label on every unit
BASELINES = (STRATIFIED, MAJORITY, ALL_POSITIVE)
BASELINE_NAMES = {
    STRATIFIED: "stratified baseline",
    MAJORITY: "majority baseline",
    ALL_POSITIVE: "all-positive baseline",
}


@dataclass(frozen=True)
class Predictions:
    """One model's out-of-fold predictions: rows x labels, with what each row stands for."""

    y_true: np.ndarray  # rows x labels, uint8 0/1
    y_pred: np.ndarray  # rows x labels, uint8 0/1
    weight: np.ndarray  # frames each row stands for
    story: np.ndarray  # story index of each row (into OutOfFold.stories)
    fold: np.ndarray  # fold each row was tested in
    score: np.ndarray | None = None  # rows x labels, P(label) behind y_pred (trained model)

    @classmethod
    def pool(cls, parts: list[Predictions]) -> Predictions:
        scores = [p.score for p in parts if p.score is not None]
        y_true, y_pred, weight, story, fold = (
            np.concatenate([getattr(p, name) for p in parts]) for name in _FIELDS
        )
        return cls(y_true, y_pred, weight, story, fold,
                   np.concatenate(scores) if len(scores) == len(parts) else None)

    def where(self, mask: np.ndarray) -> Predictions:
        y_true, y_pred, weight, story, fold = (getattr(self, name)[mask] for name in _FIELDS)
        return Predictions(y_true, y_pred, weight, story, fold,
                           None if self.score is None else self.score[mask])

    def report(self, labels: list[str]) -> Report:
        return score(self.y_true, self.y_pred, labels, self.weight)

    def all_positive(self) -> Predictions:
        """The all-positive baseline on the same rows: every label predicted."""
        return Predictions(self.y_true, np.ones_like(self.y_true), self.weight, self.story,
                           self.fold)


_FIELDS = ("y_true", "y_pred", "weight", "story", "fold")


def pool_parts(parts: list[tuple[Predictions, np.ndarray]]) -> tuple[Predictions, np.ndarray]:
    """Pool the folds' predictions, each with its `frame_row` (fold's test frame -> its row
    in that fold's predictions), offset into the pooled rows."""
    offsets = np.cumsum([0, *(len(p.weight) for p, _ in parts[:-1])])
    rows = [frame_row + offset for (_, frame_row), offset in zip(parts, offsets, strict=True)]
    return Predictions.pool([p for p, _ in parts]), np.concatenate(rows)


@dataclass(frozen=True)
class OutOfFold:
    """The pooled predictions of the model and the baselines over the same folds."""

    model: str  # key of the trained model in `predictions` (random_forest or logreg)
    stories: list[str]
    n_folds: int
    predictions: dict[str, Predictions]  # model, then BASELINES
    frames: np.ndarray  # the matrix row of every test frame, folds pooled
    frame_rows: dict[str, np.ndarray]  # per prediction: each test frame's row in it

    @property
    def names(self) -> tuple[str, ...]:
        return (self.model, *BASELINES)

    def per_frame(self, name: str) -> Predictions:
        """`name`'s predictions one row per test frame (in `frames` order), weight 1."""
        rows = self.predictions[name].where(self.frame_rows[name])
        return Predictions(rows.y_true, rows.y_pred, np.ones(len(rows.weight)), rows.story,
                           rows.fold, rows.score)
