"""Predict every input a fold will ever ask about once, then answer from a table.

A fold's model is asked twice: for its test rows, and by the held-out permutation
importance for the same rows with one input column shuffled. Neighbouring frames repeat,
so these requests hold few distinct inputs, and the permutations are fixed by their seed.
So the requests are recorded first (a dry run of `sklearn.inspection` with the same seed,
answered with zeros), the distinct inputs are predicted in one pass, and the real run is
answered from the table. The forest can then be grown, applied and dropped a few trees at
a time (`forest_predictions`): the fold's forest is never whole in memory, and the
predictions are those of the whole forest (`RandomForestClassifier.predict`: per-tree
probabilities summed in tree order, divided by the number of trees, argmax).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.ensemble import RandomForestClassifier


def input_keys(X: np.ndarray) -> np.ndarray:
    """One comparable bytes value per row: its float32 cells (0/1 flags or shares)."""
    rows = np.ascontiguousarray(X, dtype=np.float32)
    return rows.view(np.dtype((np.void, rows.shape[1] * 4))).ravel()


class Recorder:
    """Answers every request with zeros and remembers each distinct input row it saw."""

    def __init__(self, n_labels: int) -> None:
        self.n_labels = n_labels
        self.index: dict[bytes, int] = {}
        self.rows: list[np.ndarray] = []

    def fit(self, X: np.ndarray, y: np.ndarray) -> Recorder:  # scikit-learn's interface
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        keys, first = np.unique(input_keys(X), return_index=True)
        for key, row in zip(keys, first, strict=True):
            if key.tobytes() not in self.index:
                self.index[key.tobytes()] = len(self.rows)
                self.rows.append(np.asarray(X[row], dtype=np.float32))
        return np.zeros((len(X), self.n_labels), dtype=np.uint8)

    def inputs(self) -> np.ndarray:
        return np.stack(self.rows) if self.rows else np.zeros((0, 0), dtype=np.float32)


class Lookup:
    """A fitted model's predictions for recorded inputs, looked up row by row."""

    def __init__(self, index: dict[bytes, int], predictions: np.ndarray) -> None:
        self.index = index
        self.predictions = predictions

    def fit(self, X: np.ndarray, y: np.ndarray) -> Lookup:  # scikit-learn's interface
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        keys, inverse = np.unique(input_keys(X), return_inverse=True)
        found = np.array([self.index[key.tobytes()] for key in keys], dtype=np.int64)
        return self.predictions[found[inverse.ravel()]]


def forest_predictions(parts: Iterable[RandomForestClassifier], X: np.ndarray) -> np.ndarray:
    """0/1 predictions (rows x labels) of the forest that `parts` make up, part by part."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    total: list[np.ndarray] | None = None
    classes: list[np.ndarray] = []
    n_trees = 0
    for part in parts:
        if total is None:
            single = part.n_outputs_ == 1
            classes = [part.classes_] if single else list(part.classes_)
            total = [np.zeros((len(X), len(c))) for c in classes]
        for tree in part.estimators_:
            proba = tree.predict_proba(X, check_input=False)
            for k, p in enumerate([proba] if part.n_outputs_ == 1 else proba):
                total[k] += p
            n_trees += 1
    if total is None:
        raise ValueError("no trees")
    return np.stack(
        [c.take(np.argmax(t / n_trees, axis=1)) for c, t in zip(classes, total, strict=True)],
        axis=1,
    ).astype(np.uint8)
