"""The random forest, the logistic-regression comparator and the two baselines, in one place.

The forest is scikit-learn's native multi-output RandomForestClassifier (one forest, one
output per label), as in the study. `fit_forest_on_rows` grows the very same forest from
collapsed rows (see `ml.bagging`). The comparator is one-vs-rest L2 logistic regression
with balanced class weights: a reviewer's first question is whether a forest is needed.
Its loss is a sum over frames, and scikit-learn counts balanced class weights with the
sample weights, so fitting the distinct rows weighted by their frame counts is the
per-frame fit (tests/test_ml.py compares the coefficients).
"""

from __future__ import annotations

import warnings

import numpy as np
import sklearn
from sklearn.base import ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from threadpoolctl import threadpool_limits

from ml.bagging import Grove, fit_on_rows
from ml.collapse import UniqueRows, collapse_frames
from ml.options import ClassWeight, ForestSettings

#: Trees of a forest held at once while training (~13 MB each on NCSLGR with 43 labels).
TREES_IN_MEMORY = 10


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


def make_logreg(seed: int) -> OneVsRestClassifier:
    """An unfitted one-vs-rest L2 logistic regression, each label class-balanced.

    It asks for sample weights (frame counts) through scikit-learn's metadata routing,
    which is switched on only around its construction and fit.
    """
    with sklearn.config_context(enable_metadata_routing=True):
        return OneVsRestClassifier(
            LogisticRegression(
                class_weight="balanced", solver="newton-cholesky", max_iter=200,
                random_state=seed,
            ).set_fit_request(sample_weight=True)
        )


def fit_logreg_on_rows(seed: int, rows: UniqueRows, frames: np.ndarray) -> OneVsRestClassifier:
    """The logistic regression fitted on `frames`, from their distinct rows weighted by count.

    Newton steps suit many rows and a few dozen inputs (a handful of iterations where
    L-BFGS needs ~50), and one BLAS thread keeps them fast: threaded BLAS on matrices this
    small spends ~20x the CPU spinning on a shared machine.
    """
    present, counts = collapse_frames(rows, frames)
    with (
        sklearn.config_context(enable_metadata_routing=True),
        threadpool_limits(limits=1, user_api="blas"),
        warnings.catch_warnings(),
    ):
        # A label absent from the training frames gets a constant predictor: intended.
        warnings.filterwarnings("ignore", message="Label not .* is present in all training")
        model = make_logreg(seed).fit(rows.X[present], rows.Y[present], sample_weight=counts)
    # The weight request is only for fitting, and skops cannot save it: drop it.
    for estimator in [model.estimator, *model.estimators_]:
        estimator.__dict__.pop("_metadata_request", None)
    return model


def grow_forests(
    settings: ForestSettings, rows: UniqueRows, frame_sets: list[np.ndarray]
) -> Grove:
    """The forests `fit_forest_on_rows` grows on each of `frame_sets`, in turn, TREES_IN_MEMORY
    trees at a time, by one pool of threads (`ml.bagging.Grove`)."""
    return Grove(make_forest(settings), rows, frame_sets, TREES_IN_MEMORY)


def predict(model: ClassifierMixin, X: np.ndarray) -> np.ndarray:
    """0/1 predictions, always 2-D (frames x labels), even for a single label."""
    return np.asarray(model.predict(X)).reshape(X.shape[0], -1).astype(np.uint8)


def positive_scores(model: ClassifierMixin, X: np.ndarray) -> np.ndarray:
    """P(label = 1) per row and label (rows x labels), the score behind `predict`'s 0/1."""
    proba = model.predict_proba(X)
    if isinstance(model, OneVsRestClassifier) and model.multilabel_:
        return np.asarray(proba, dtype=np.float64)
    if isinstance(proba, list):  # a multi-output forest: one rows x classes array per label
        return positive_share(proba, list(model.classes_))
    return positive_share([proba], [model.classes_])


def positive_share(per_label: list[np.ndarray], classes: list[np.ndarray]) -> np.ndarray:
    """P(label = 1) per row and label from each label's per-class probabilities; 0 for a
    label whose training rows never had it."""
    out = np.zeros((len(per_label[0]), len(per_label)))
    for k, (proba, labels) in enumerate(zip(per_label, classes, strict=True)):
        hit = np.flatnonzero(np.asarray(labels) == 1)
        if hit.size:
            out[:, k] = proba[:, hit[0]]
    return out


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
