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
reweights by the classes of the drawn frames; each tree is then handed to scikit-learn's
own tree builder with what `DecisionTreeClassifier.fit` would work out for it, worked out
once per forest (`_Grower`). Tests compare the two forests and a grown tree with `fit`'s,
so an upgrade that changes these steps fails loudly instead of drifting.
"""

from __future__ import annotations

import copy
import functools
import itertools
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier
from sklearn.tree._classes import CRITERIA_CLF, DENSE_SPLITTERS
from sklearn.tree._tree import DepthFirstTreeBuilder, Tree

from ml.collapse import UniqueRows
from ml.rng import seeded


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
    together are that forest, tree for tree; the caller's batch and the next one, grown
    meanwhile, are in memory (a multi-output tree on NCSLGR holds ~13 MB of node values).
    """
    with Grove(forest, rows, [frames], batch) as grove:
        yield from grove.forest(frames)


class Grove:
    """The forests `forest` (unfitted, bootstrap on) fitted on each of `frame_sets` in turn,
    as `grow_in_batches` grows them, by one pool of threads that keeps `batch` trees growing
    ahead of the caller across forests: while the caller finishes one forest's last trees
    (and works on its predictions), the next forest's first trees grow.

    Take the forests in order with `forest`; use as a context manager (it ends the pool).
    """

    def __init__(self, forest: RandomForestClassifier, rows: UniqueRows,
                 frame_sets: list[np.ndarray], batch: int) -> None:
        self._forest, self._rows, self._frame_sets, self._batch = forest, rows, frame_sets, batch
        n_threads = effective_n_jobs(forest.n_jobs)
        self._pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
        self._trees = itertools.chain.from_iterable(
            self._jobs(index) for index in range(len(frame_sets))
        )
        self._ahead: deque[tuple[int, Future[DecisionTreeClassifier]]] = deque()
        self._fitting: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._taken = 0  # forests handed out

    def __enter__(self) -> Grove:
        return self

    def __exit__(self, *exc: object) -> None:
        for _, future in self._ahead:
            future.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def forest(self, frames: np.ndarray) -> Iterator[RandomForestClassifier]:
        """The next forest's trees, fitted sub-forests of at most `batch` trees each;
        `frames` must be the frame set it was planned for (take each forest whole)."""
        index = self._taken
        if index >= len(self._frame_sets) or not np.array_equal(self._frame_sets[index], frames):
            raise ValueError("take the forests in the order of their frame sets")
        self._taken += 1
        return self._parts(index)

    def _parts(self, index: int) -> Iterator[RandomForestClassifier]:
        fitted: RandomForestClassifier | None = None  # the first part, without its trees
        while grown := self._next_batch(index):
            if fitted is None:
                part = _adopt(clone(self._forest).set_params(n_estimators=len(grown)), grown,
                              *self._fitting.pop(index))
                fitted = copy.copy(part)
                fitted.estimators_ = []
            else:  # the same rows and labels: the first part's fitted attributes hold
                part = copy.copy(fitted)
                part.set_params(n_estimators=len(grown))
                part.estimators_ = grown
            yield part
            del grown, part  # the caller decides how long a batch lives

    def _next_batch(self, index: int) -> list[DecisionTreeClassifier]:
        """Forest `index`'s next `batch` trees, the trees after them set growing first."""
        while self._ahead and self._ahead[0][0] < index:  # of a forest left unfinished
            self._ahead.popleft()[1].cancel()
        self._top_up()
        mine: list[Future[DecisionTreeClassifier]] = []
        while self._ahead and self._ahead[0][0] == index and len(mine) < self._batch:
            mine.append(self._ahead.popleft()[1])
        if self._pool is not None:  # without threads, the trees grow as they are taken
            self._top_up()
        return [future.result() for future in mine]

    def _top_up(self) -> None:
        """`batch` trees set growing (without threads: grown), the next forest's if due."""
        while len(self._ahead) < self._batch and (job := next(self._trees, None)):
            index, grow = job
            if index < self._taken - 1:  # a forest left unfinished
                continue
            if self._pool is None:
                done: Future[DecisionTreeClassifier] = Future()
                done.set_result(grow())
                self._ahead.append((index, done))
            else:
                self._ahead.append((index, self._pool.submit(grow)))

    def _jobs(self, index: int) -> Iterator[tuple[int, Callable[[], DecisionTreeClassifier]]]:
        """Forest `index`'s trees to grow, in order, worked out when its first is due (so
        only the forests being grown hold their rows)."""
        forest, rows = self._forest, self._rows
        row_of_frame = rows.row_of_frame[self._frame_sets[index]]
        present = np.flatnonzero(np.bincount(row_of_frame, minlength=rows.n_unique))
        local = np.searchsorted(present, row_of_frame)  # frame -> index into the present rows
        X, labels = rows.X[present], rows.Y[present]
        Y = _encode(labels)
        counts = np.bincount(local).astype(np.float64)  # training frames per row
        self._fitting[index] = (X, labels, counts)
        draw_p = _draw_probabilities(forest, Y, local, counts)
        draw = np.random.RandomState(forest.random_state)
        seeds = [int(draw.randint(np.iinfo(np.int32).max)) for _ in range(forest.n_estimators)]
        params = {name: getattr(forest, name) for name in forest.estimator_params
                  if name != "random_state"}
        grower = _Grower.of(DecisionTreeClassifier(**params), X, Y)
        for seed in seeds:
            tree = DecisionTreeClassifier(**params, random_state=seed)
            yield index, functools.partial(
                _grow, grower, tree, forest.class_weight, X, Y, local, draw_p
            )


def _encode(labels: np.ndarray) -> np.ndarray:
    """Each label column as class indices, the targets the forest gives its trees.

    uint8, not the forest's float64: the trees' classes are uint8, as they have always been.
    """
    return np.stack(
        [np.unique(column, return_inverse=True)[1].ravel() for column in labels.T], axis=1
    ).astype(np.uint8)


#: The tree settings `_Grower` replays `fit` for: scikit-learn's defaults (but max_depth).
_TREE_DEFAULTS: dict[str, object] = {
    "criterion": "gini", "splitter": "best", "min_samples_split": 2, "min_samples_leaf": 1,
    "min_weight_fraction_leaf": 0.0, "max_features": "sqrt", "max_leaf_nodes": None,
    "min_impurity_decrease": 0.0, "ccp_alpha": 0.0, "monotonic_cst": None,
}


@dataclass(frozen=True)
class _Grower:
    """What `DecisionTreeClassifier.fit(X, Y, sample_weight, check_input=False)` works out
    before it grows a tree, worked out once for every tree of a forest.

    That work (each label's classes by `np.unique`, the target checks, the parameter
    validation) is the same for every tree on the same rows, and it is ~20% of a tree's
    time on NCSLGR and half of it on the sample corpus, all of it holding the GIL. `grow`
    is scikit-learn 1.9's `BaseDecisionTree._fit` from there on, for the trees a
    `ForestSettings` forest has (scikit-learn's defaults, any max_depth); `of` refuses
    other settings. tests/test_ml.py compares the trees with `fit`'s.
    """

    classes: list[np.ndarray]  # per label, as `fit` finds them (np.unique of the column)
    n_classes: np.ndarray  # intp, per label
    y: np.ndarray  # the labels as the builder reads them: float64 class indices
    max_features: int
    max_depth: int  # the builder's: no limit is int32's largest

    @classmethod
    def of(cls, tree: DecisionTreeClassifier, X: np.ndarray, Y: np.ndarray) -> _Grower:
        """For the trees like `tree` (unfitted) grown on `X` and `Y` (class indices)."""
        changed = [name for name, value in _TREE_DEFAULTS.items()
                   if getattr(tree, name) != value]
        if changed:
            raise ValueError(f"trees are grown with scikit-learn's defaults: not {changed}")
        classes = [np.unique(column) for column in Y.T]
        return cls(
            classes, np.array([len(c) for c in classes], dtype=np.intp),
            np.ascontiguousarray(Y, dtype=np.float64),
            max(1, int(np.sqrt(X.shape[1]))),
            np.iinfo(np.int32).max if tree.max_depth is None else tree.max_depth,
        )

    def grow(self, tree: DecisionTreeClassifier, X: np.ndarray, weight: np.ndarray
             ) -> DecisionTreeClassifier:
        """`tree` (unfitted, settings as the forest's) fitted as `fit` fits it."""
        n_outputs = len(self.classes)
        criterion = CRITERIA_CLF[tree.criterion](n_outputs, self.n_classes)
        splitter = DENSE_SPLITTERS[tree.splitter](
            criterion, self.max_features, 1, 0.0, seeded(tree.random_state),
            None,
        )
        tree.tree_ = Tree(X.shape[1], self.n_classes, n_outputs)
        DepthFirstTreeBuilder(splitter, 2, 1, 0.0, self.max_depth, 0.0).build(
            tree.tree_, X, self.y, weight, None
        )
        tree.n_features_in_, tree.n_outputs_, tree.max_features_ = (
            X.shape[1], n_outputs, self.max_features
        )
        if n_outputs == 1:
            tree.classes_, tree.n_classes_ = self.classes[0], self.n_classes[0]
        else:
            tree.classes_, tree.n_classes_ = list(self.classes), self.n_classes.copy()
        return tree


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
    grower: _Grower,
    tree: DecisionTreeClassifier,
    class_weight: str | None,
    X: np.ndarray,
    Y: np.ndarray,
    local: np.ndarray,
    draw_p: np.ndarray | None,
) -> DecisionTreeClassifier:
    """Draw the tree's per-frame bootstrap from its seed and grow it on the weighted rows."""
    n = local.shape[0]
    rng = seeded(tree.random_state)  # used up before `grow` reseeds it for the splitter
    drawn = rng.randint(0, n, n) if draw_p is None else rng.choice(n, n, p=draw_p)
    weight = np.bincount(local[drawn], minlength=X.shape[0]).astype(np.float64)  # draws per row
    if class_weight == "balanced_subsample":
        weight = weight * _balanced_weights(Y, weight)
    return grower.grow(tree, X, weight)


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
