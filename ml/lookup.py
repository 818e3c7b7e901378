"""Predict every input a fold asks about once, with a forest grown a few trees at a time.

A fold's model is asked about its distinct test inputs and, by the held-out permutation
importance, about the same rows with one input changed (`ml.importance.plan_shuffles`).
All of them are predicted in one pass, so the forest can be grown, applied and dropped a
few trees at a time (`forest_predictions`): the fold's forest is never whole in memory,
and the predictions are those of the whole forest (`RandomForestClassifier.predict`:
per-tree probabilities summed in tree order, divided by the number of trees, argmax).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from ml.model import positive_share

#: Rows applied to one tree at a time (bounds the per-tree leaf-value copy).
_CHUNK_ROWS = 8192


def forest_predictions(
    parts: Iterable[RandomForestClassifier], X: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """0/1 predictions and P(label = 1) (rows x labels) of the forest that `parts` make up.

    A tree's probabilities are its leaf values (`DecisionTreeClassifier.predict_proba` is
    `tree_.value` at `apply`'s leaves), so every label is added in one step per tree.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    total: np.ndarray | None = None
    classes: list[np.ndarray] = []
    n_trees = 0
    for part in parts:
        if total is None:
            classes = [part.classes_] if part.n_outputs_ == 1 else list(part.classes_)
            total = np.zeros((len(X), len(classes), max(len(c) for c in classes)))
        for tree in part.estimators_:
            _add_tree(total, tree, X)
            n_trees += 1
        del part  # before the next part is taken: two parts in memory, not three
    if total is None:
        raise ValueError("no trees")
    mean = total / n_trees
    predictions = np.stack(
        [c.take(np.argmax(mean[:, k, : len(c)], axis=1)) for k, c in enumerate(classes)],
        axis=1,
    ).astype(np.uint8)
    return predictions, positive_share(
        [mean[:, k, : len(c)] for k, c in enumerate(classes)], classes
    )


def _add_tree(total: np.ndarray, tree: DecisionTreeClassifier, X: np.ndarray) -> None:
    """Add one tree's leaf values of every row and label to `total`, a chunk of rows at a
    time."""
    value = tree.tree_.value.reshape(tree.tree_.node_count, total.shape[1], -1)
    width = min(value.shape[2], total.shape[2])
    for start in range(0, len(X), _CHUNK_ROWS):
        chunk = slice(start, start + _CHUNK_ROWS)
        total[chunk, :, :width] += value[tree.apply(X[chunk], check_input=False), :, :width]
