"""Grow the per-frame random forest's own trees on collapsed rows.

`RandomForestClassifier.fit` on frames gives tree t a seed, draws its bootstrap as frame
indices from that seed, turns them into per-frame counts and grows a tree on every frame
weighted by its count. Frames with identical (inputs, labels) can never be told apart by a
tree, so the same tree grows from the distinct rows weighted by the summed counts of their
frames (tests/test_ml.py checks this tree for tree). This module replays the forest's seeds
and per-frame draws (cheap: one integer array per tree) and grows each tree on the distinct
rows (the expensive part, ~10x fewer rows on NCSLGR). The result is a plain
`RandomForestClassifier` equal, tree for tree, to `fit` on the frames with the same
`random_state` (it loads with skops without this project). With `balanced_subsample` the
tree weights are fractions whose sums round in another order, so an exact tie between two
splits may break the other way; the forest is otherwise the same.

The replayed steps follow scikit-learn 1.9 (pinned): per-tree seeds are
`RandomState(seed).randint(2**31 - 1)` in turn, a bootstrap is `randint(0, n, n)` (or a
`choice` weighted by the expanded class weights for `balanced`), and `balanced_subsample`
reweights by the classes of the drawn frames. A test compares the two forests, so an
upgrade that changes these steps fails loudly instead of drifting.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from ml.collapse import UniqueRows


def fit_on_rows(
    forest: RandomForestClassifier, rows: UniqueRows, frames: np.ndarray
) -> RandomForestClassifier:
    """Fit `forest` (unfitted, bootstrap on) as if on `frames`, growing its trees on rows.

    `frames` are the training frames in the order a per-frame fit would see them.
    """
    return next(grow_in_batches(forest, rows, frames, forest.n_estimators))


def grow_in_batches(
    forest: RandomForestClassifier, rows: UniqueRows, frames: np.ndarray, batch: int
) -> Iterator[RandomForestClassifier]:
    """The trees `fit_on_rows` grows, as fitted sub-forests of at most `batch` trees each.

    Tree t gets the same seed and bootstrap as in the whole forest, so the sub-forests
    together are that forest, tree for tree; only one batch is in memory at a time (a
    multi-output tree on NCSLGR holds ~13 MB of node values).
    """
    row_of_frame = rows.row_of_frame[frames]
    present = np.flatnonzero(np.bincount(row_of_frame, minlength=rows.n_unique))
    local = np.searchsorted(present, row_of_frame)  # frame -> index into the present rows
    X, labels = rows.X[present], rows.Y[present]
    Y = _encode(labels)
    counts = np.bincount(local).astype(np.float64)  # training frames per row
    draw_p = _draw_probabilities(forest, Y, local, counts)
    draw = np.random.RandomState(forest.random_state)
    seeds = [int(draw.randint(np.iinfo(np.int32).max)) for _ in range(forest.n_estimators)]
    params = {name: getattr(forest, name) for name in forest.estimator_params
              if name != "random_state"}
    for start in range(0, len(seeds), batch):
        grown = Parallel(n_jobs=forest.n_jobs, prefer="threads")(
            delayed(_grow)(
                DecisionTreeClassifier(**params, random_state=seed), forest.class_weight, X, Y,
                local, draw_p,
            )
            for seed in seeds[start : start + batch]
        )
        part = clone(forest).set_params(n_estimators=len(grown))
        yield _adopt(part, grown, X, labels, counts)
        del grown, part  # the caller decides how long a batch lives


def _encode(labels: np.ndarray) -> np.ndarray:
    """Each label column as class indices, the targets the forest gives its trees.

    uint8, not the forest's float64: a tree finds its classes with `np.unique` per label
    while holding the GIL, which is twice as fast on bytes; the grown tree is the same.
    """
    return np.stack(
        [np.unique(column, return_inverse=True)[1].ravel() for column in labels.T], axis=1
    ).astype(np.uint8)


def _draw_probabilities(
    forest: RandomForestClassifier, Y: np.ndarray, local: np.ndarray, counts: np.ndarray
) -> np.ndarray | None:
    """Per-frame bootstrap probabilities: None (uniform) unless class_weight='balanced'."""
    if forest.class_weight != "balanced":
        return None
    frame_weight = _balanced_weights(Y, counts)[local]
    return frame_weight / frame_weight.sum()


def _balanced_weights(Y: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """scikit-learn's 'balanced' sample weight of each row, classes counted with `counts`.

    Per label: n / (classes present x frames of the row's class); the product over labels.
    """
    n = counts.sum()
    per_label = []
    for k in range(Y.shape[1]):
        drawn = np.bincount(Y[:, k], weights=counts, minlength=2)
        present = drawn > 0
        class_weight = np.zeros_like(drawn)
        class_weight[present] = n / (present.sum() * drawn[present])
        per_label.append(class_weight[Y[:, k]])
    return np.prod(per_label, axis=0, dtype=np.float64)


def _grow(
    tree: DecisionTreeClassifier,
    class_weight: str | None,
    X: np.ndarray,
    Y: np.ndarray,
    local: np.ndarray,
    draw_p: np.ndarray | None,
) -> DecisionTreeClassifier:
    """Draw the tree's per-frame bootstrap from its seed and grow it on the weighted rows."""
    n = local.shape[0]
    rng = np.random.RandomState(tree.random_state)
    drawn = rng.randint(0, n, n) if draw_p is None else rng.choice(n, n, p=draw_p)
    weight = np.bincount(local, weights=np.bincount(drawn, minlength=n), minlength=X.shape[0])
    if class_weight == "balanced_subsample":
        weight = weight * _balanced_weights(Y, weight)
    return tree.fit(X, Y, sample_weight=weight, check_input=False)


def _adopt(
    forest: RandomForestClassifier,
    trees: list[DecisionTreeClassifier],
    X: np.ndarray,
    labels: np.ndarray,
    counts: np.ndarray,
) -> RandomForestClassifier:
    """Hand the grown trees to `forest` through warm start, which fits no new tree.

    The forest's own `fit` then sets its classes, output count and input checks exactly as
    for any fit, so prediction, importances and saving are scikit-learn's unchanged.
    """
    forest.set_params(warm_start=True)
    forest.estimators_ = trees
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Warm-start fitting without increasing")
        warnings.filterwarnings("ignore", message='class_weight presets "balanced"')
        forest.fit(X, labels if labels.shape[1] > 1 else labels.ravel(), sample_weight=counts)
    forest.set_params(warm_start=False)
    return forest
