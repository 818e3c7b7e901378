"""Collapse identical frames into unique rows with a count, so the forest trains on far fewer rows.

Neighbouring frames are near copies: on NCSLGR, 181k frames have only ~14k distinct
(action units, labels) rows. Training and evaluating on the distinct rows with
`sample_weight = count` is what makes `train` fast. What is exact and what is not:

* Evaluation is exact. A fitted model's prediction depends only on the input row, so the
  predictions for the `count` identical test frames are identical, and every metric
  computed with `sample_weight = count` equals the metric over the frames one by one.
* Training matches the per-frame random forest in distribution, not draw for draw. A
  per-frame forest draws N bootstrap rows uniformly from N frames, i.e. multinomial counts
  with probability count/N per distinct row. scikit-learn 1.9 (pinned) draws bootstrap indices
  with probability proportional to `sample_weight`, and with an *integer* `max_samples = N`
  (the number of frames; not None, which would draw only as many rows as there are
  distinct rows) it draws exactly that multinomial. Each tree then sees the same weighted
  data it would have seen per frame (trees skip zero-weight rows and split on weighted
  impurity, and duplicate rows can never be split apart anyway), so the collapsed forest
  is a draw from the same distribution as the per-frame forest. `class_weight='balanced'`
  and `'balanced_subsample'` stay exact too: scikit-learn counts classes with the sample
  weights and on the drawn indices respectively. The only difference is the random numbers:
  the benchmark (bench/bench_train.py) measures the resulting micro-F1 difference.
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

    X: np.ndarray  # distinct rows x input features, float32 0/1
    Y: np.ndarray  # distinct rows x labels, uint8 0/1
    row_of_frame: np.ndarray  # frame -> index into X / Y

    @property
    def n_unique(self) -> int:
        return int(self.X.shape[0])


def unique_rows(X: sp.spmatrix | np.ndarray, Y: np.ndarray) -> UniqueRows:
    """Find the distinct (X, Y) rows once for the whole matrix (packed to bytes, then np.unique)."""
    dense_x = np.asarray(X.toarray()) if sp.issparse(X) else np.asarray(X)  # type: ignore[union-attr]
    bits = np.concatenate([dense_x.astype(bool), np.asarray(Y).astype(bool)], axis=1)
    packed = np.packbits(bits, axis=1)
    keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return UniqueRows(
        X=np.ascontiguousarray(dense_x[first], dtype=np.float32),
        Y=np.ascontiguousarray(np.asarray(Y)[first], dtype=np.uint8),
        row_of_frame=inverse.ravel().astype(np.int64),
    )


def collapse_frames(rows: UniqueRows, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows among `frames` and how many of those frames each one stands for.

    Returns (row indices into `rows`, counts), counts > 0, in row order.
    """
    counts = np.bincount(rows.row_of_frame[frames], minlength=rows.n_unique)
    present = np.flatnonzero(counts)
    return present, counts[present].astype(np.float64)
