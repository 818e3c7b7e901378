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

#: Rows whose running sums (~700 bytes a row on NCSLGR) stay in a core's cache while a
#: part's trees are added to them.
_CHUNK_ROWS = 1024


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
        _add_trees(total, part.estimators_, X)
        n_trees += len(part.estimators_)
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


def _add_trees(total: np.ndarray, trees: list[DecisionTreeClassifier], X: np.ndarray) -> None:
    """Add the trees' leaf values of every row and label to `total`, tree after tree.

    Each tree's leaves are found for every row first; then a chunk of rows takes every
    tree's values in turn while its sums stay in cache, copied into one buffer, not a
    new array per tree. Each sum gets the same additions in the same order as tree by
    tree over all rows, so every score is the same to the bit.
    """
    leaves = [tree.apply(X, check_input=False) for tree in trees]
    width = total.shape[2]
    values = [
        tree.tree_.value.reshape(tree.tree_.node_count, total.shape[1], -1)[:, :, :width]
        for tree in trees
    ]
    buffer = np.empty((min(_CHUNK_ROWS, len(X)), *total.shape[1:]))
    for start in range(0, len(X), _CHUNK_ROWS):
        chunk = slice(start, start + _CHUNK_ROWS)
        sums = total[chunk]
        taken = buffer[: len(sums)]
        for value, leaf in zip(values, leaves, strict=True):
            np.take(value, leaf[chunk], axis=0, out=taken)
            sums += taken
