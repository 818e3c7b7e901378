"""Permutation importance on held-out frames: how much micro-F1 drops when one input is shuffled.

Impurity importance comes from the forest fitted on every frame: it says what the forest
split on, whatever the CV, and it exists even when the model has no skill. Permutation
importance is measured per fold on that fold's test frames only, with the fold's model, and
averaged over folds weighted by their test frames. It therefore says what the model's
held-out score depends on; when the model is not above its baseline, that is close to nothing.

The numbers are `sklearn.inspection.permutation_importance(model, X_test, Y_test,
scoring=micro-F1, n_repeats, random_state=seed)` (tests/test_ml.py compares), computed once
per distinct row instead of once per frame and shuffle. Its shuffles are replayed: one seed
`RandomState(seed).randint(2**31)`, then per input column a `RandomState` of that seed
shuffling an index in place once per repeat, the column taking its own values in that order
each time. A shuffled frame is then its own distinct input row with one cell changed, so
every input a fold is asked about is a (distinct row, column, value) triple: those are found
first, predicted in one pass (`Shuffles.inputs`), and each shuffle is scored from the
predictions of its frames, labels packed to bits, counts exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.collapse import distinct_inputs
from ml.metrics import micro_f1_of_counts
from ml.rng import seeded

IMPURITY = "impurity"
PERMUTATION = "permutation"

#: Largest (distinct row x column value) space marked densely; beyond it, np.unique.
_DENSE_KEYS = 1_000_000


@dataclass(frozen=True)
class FoldImportance:
    """Mean and standard deviation of the drop in micro-F1 per input, on one test fold."""

    mean: np.ndarray
    std: np.ndarray
    n_frames: int


@dataclass(frozen=True)
class Shuffles:
    """Every input one fold's permutation importance asks about, once, and who asks for
    which: `asked[j, r, i]` is the row of `inputs` that test frame i is in repeat r of
    shuffling column j, `own[i]` its unshuffled row, `rows[d]` the row of the fold's
    distinct test input d."""

    inputs: np.ndarray  # distinct rows x input features, float32
    asked: np.ndarray  # columns x repeats x test frames, int64 index into `inputs`
    own: np.ndarray  # test frame -> its unshuffled row of `inputs`
    rows: np.ndarray  # distinct test input -> its row of `inputs`


def plan_shuffles(
    distinct: np.ndarray, own: np.ndarray, repeats: int, seed: int
) -> Shuffles:
    """The shuffles of every column of the test frames `distinct[own]`, as rows to predict.

    `distinct` holds the fold's distinct test input rows, `own` each test frame's row in it.
    A shuffled row that equals another test row is predicted once.
    """
    n_frames, n_columns = len(own), distinct.shape[1]
    column_seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
    asked = np.empty((n_columns, repeats, n_frames), dtype=np.int64)
    extra: list[np.ndarray] = []
    n_rows = len(distinct)
    for column in range(n_columns):
        values, code_of_row = np.unique(distinct[:, column], return_inverse=True)
        keys = _shuffled_keys(own, code_of_row.ravel(), len(values), repeats, column_seed)
        realized, position = _realized(keys, len(distinct) * len(values))
        row, code = realized // len(values), realized % len(values)
        changed = code != code_of_row[row]
        index = row.copy()
        index[changed] = n_rows + np.arange(int(changed.sum()))
        if changed.any():
            block = distinct[row[changed]].copy()
            block[:, column] = values[code[changed]]
            extra.append(block)
            n_rows += len(block)
        asked[column] = index[position]
    every = np.concatenate([distinct, *extra]) if extra else distinct
    first, once = distinct_inputs(every)
    return Shuffles(np.ascontiguousarray(every[first], dtype=np.float32), once[asked],
                    once[own], once[: len(distinct)])


def _shuffled_keys(
    own: np.ndarray, code_of_row: np.ndarray, n_values: int, repeats: int, seed: int
) -> np.ndarray:
    """repeats x frames: each frame's (distinct row, shuffled value code) as one integer,
    the column permuted cumulatively as scikit-learn permutes it."""
    rng = seeded(seed)
    order = np.arange(len(own))
    codes = code_of_row[own]
    keys = np.empty((repeats, len(own)), dtype=np.int64)
    for repeat in range(repeats):
        rng.shuffle(order)
        codes = codes[order]
        keys[repeat] = own * n_values + codes
    return keys


def _realized(keys: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys (sorted) and each key's position among them (shaped like keys)."""
    if space <= _DENSE_KEYS:
        seen = np.zeros(space, dtype=bool)
        seen[keys.ravel()] = True
        realized = np.flatnonzero(seen)
        return realized, (np.cumsum(seen) - 1)[keys]
    found = np.unique(keys.ravel(), return_inverse=True)
    return found[0], np.asarray(found[1]).reshape(keys.shape)


def held_out_importance(
    shuffles: Shuffles, predictions: np.ndarray, truth: np.ndarray
) -> FoldImportance:
    """Permutation importance from the fold model's 0/1 `predictions` of `shuffles.inputs`
    and the test frames' labels `truth` (frames x labels)."""
    packed_truth = _pack(truth)
    packed = _pack(predictions)
    n_true = int(_popcount(packed_truth).sum())

    def score(rows: np.ndarray) -> float:
        guess = packed[rows]
        tp = int(_popcount(guess & packed_truth).sum())
        n_pred = int(_popcount(guess).sum())
        counts = np.array([tp, n_pred - tp, n_true - tp], dtype=np.float64)
        return float(micro_f1_of_counts(counts))

    baseline = score(shuffles.own)
    n_columns, repeats = shuffles.asked.shape[:2]
    scores = np.array(
        [[score(shuffles.asked[j, r]) for r in range(repeats)] for j in range(n_columns)]
    )
    drops = baseline - scores
    return FoldImportance(np.mean(drops, axis=1), np.std(drops, axis=1), len(shuffles.own))


def _pack(bits: np.ndarray) -> np.ndarray:
    """Rows of 0/1 cells as rows of uint64 words (64 labels a word)."""
    packed = np.packbits(np.asarray(bits, dtype=bool), axis=1)
    pad = (-packed.shape[1]) % 8
    packed = np.pad(packed, ((0, 0), (0, pad)))
    return np.ascontiguousarray(packed).view(np.uint64)


def _popcount(words: np.ndarray) -> np.ndarray:
    """Set bits per row."""
    return np.bitwise_count(words).sum(axis=1, dtype=np.int64)


def pool_folds(folds: list[FoldImportance]) -> tuple[np.ndarray, np.ndarray]:
    """Per input: the folds' mean drops and standard deviations, weighted by test frames."""
    weight = np.array([f.n_frames for f in folds], dtype=np.float64)
    mean = np.average(np.stack([f.mean for f in folds]), axis=0, weights=weight)
    std = np.average(np.stack([f.std for f in folds]), axis=0, weights=weight)
    return mean, std
