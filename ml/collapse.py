"""Collapse identical frames into unique rows with a count, so the forest trains on far fewer rows.

Neighbouring frames are near copies: on NCSLGR, 181k frames have only ~15k distinct
(action units, labels) rows. Training and evaluating on the distinct rows weighted by their
frame counts is what makes `train` fast, and nothing about it is approximate:

* Evaluation is exact. A fitted model's prediction depends only on the input row, so the
  predictions for the `count` identical test frames are identical, and every metric
  computed with `sample_weight = count` equals the metric over the frames one by one.
* Training is exact too, tree for tree: `ml.bagging` replays the per-frame forest's seeds
  and bootstrap draws and grows each tree on the distinct rows weighted by the summed
  counts of their frames. Duplicate frames can never be split apart, so the trees, the
  predictions and the importances equal those of `RandomForestClassifier.fit` on the
  frames with the same seed (tests/test_ml.py compares the two forests; with
  `balanced_subsample` rounding may break an exact tie between splits differently).
* The CV split is made on frames first and collapsing happens inside each fold, so
  shuffled frame-level KFold keeps the study's behaviour (copies of a test frame can sit in
  the training fold) and grouped splits keep every group on one side. Groups therefore need
  not be part of the collapsing key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class UniqueRows:
    """The distinct (inputs, labels) rows of a matrix and which one each frame is."""

    X: np.ndarray  # distinct rows x input features, float32 (0/1, or shares for sign tokens)
    Y: np.ndarray  # distinct rows x labels, uint8 0/1
    row_of_frame: np.ndarray  # frame -> index into X / Y

    @property
    def n_unique(self) -> int:
        return int(self.X.shape[0])


def unique_rows(X: sp.spmatrix | np.ndarray, Y: np.ndarray) -> UniqueRows:
    """Find the distinct (X, Y) rows once for the whole matrix (packed to bytes, then np.unique)."""
    dense_x = np.asarray(X.toarray()) if sp.issparse(X) else np.asarray(X)  # type: ignore[union-attr]
    keys = _row_keys(dense_x, np.asarray(Y))
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    row_x = np.ascontiguousarray(dense_x[first], dtype=np.float32)
    return UniqueRows(
        X=row_x,
        Y=np.ascontiguousarray(np.asarray(Y)[first], dtype=np.uint8),
        row_of_frame=inverse.ravel().astype(np.int64),
    )


def _row_keys(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """One comparable bytes value per (inputs, labels) row (see `packed_inputs`)."""
    labels = np.packbits(Y.astype(bool), axis=1)
    return _void(np.concatenate([packed_inputs(X), labels], axis=1))


def packed_inputs(X: np.ndarray) -> np.ndarray:
    """Each row's inputs as bytes: 0/1 cells packed to bits, other inputs (a sign token's
    shares) by their exact float32 bytes."""
    if np.isin(X, (0, 1)).all():
        return np.packbits(X.astype(bool), axis=1)
    return np.ascontiguousarray(X, dtype=np.float32).view(np.uint8)


def _void(packed: np.ndarray) -> np.ndarray:
    packed = np.ascontiguousarray(packed)
    return packed.view(np.dtype((np.void, packed.shape[1]))).ravel()


def distinct_inputs(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct input row of `X` and every row's index among them."""
    _, first, inverse = np.unique(_void(packed_inputs(X)), return_index=True,
                                  return_inverse=True)
    return first, inverse.ravel()


def held_out_units(
    rows: UniqueRows, frames: np.ndarray, story: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (row, story) pairs among test `frames`: rows, frame counts, stories, and
    each frame's unit.

    Like `collapse_frames`, but a row never merges frames of two stories, so the pooled
    predictions can be resampled by story (`ml.verdict`). `story` holds a story index per
    frame of the matrix.
    """
    n_stories = int(story.max()) + 1
    keys, unit_of_frame, counts = np.unique(
        rows.row_of_frame[frames] * n_stories + story[frames], return_inverse=True,
        return_counts=True,
    )
    return (keys // n_stories, counts.astype(np.float64), keys % n_stories,
            unit_of_frame.ravel())


def collapse_frames(rows: UniqueRows, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows among `frames` and how many of those frames each one stands for.

    Returns (row indices into `rows`, counts), counts > 0, in row order.
    """
    counts = np.bincount(rows.row_of_frame[frames], minlength=rows.n_unique)
    present = np.flatnonzero(counts)
    return present, counts[present].astype(np.float64)
