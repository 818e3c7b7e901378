"""Cross-validation splits over frames: the study's shuffled KFold and the honest grouped ones.

Neighbouring frames are near copies and a story's frames share its labels, so a shuffled
frame-level split puts copies of every test frame in the training fold: it measures
memory, not generalisation. `kfold` is kept only to reproduce the study; `story`,
`signer` and `utterance` never let a group appear on both sides of a split.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut

from ml.options import CV
from signaffect.core.errors import SignAffectError

__all__ = ["CV", "FoldPlan", "plan_folds", "shared_groups"]


@dataclass(frozen=True)
class FoldPlan:
    """The folds to run, and a note when they differ from what was asked for."""

    cv: CV
    n_folds: int
    requested: int
    note: str | None
    splits: list[tuple[np.ndarray, np.ndarray]]


def plan_folds(
    cv: CV,
    requested: int,
    seed: int,
    n_frames: int,
    groups: dict[CV, np.ndarray],
) -> FoldPlan:
    """Make the train/test frame indices for `cv`.

    Grouped schemes use min(requested, number of groups) folds; leave-one-signer-out uses
    one fold per signer whatever was requested. Every difference is reported in `note`.
    """
    if requested < 2:
        raise SignAffectError(f"--folds must be at least 2, got {requested}", "try --folds 10")
    index = np.zeros((n_frames, 1))
    note = None
    if cv is CV.kfold:
        if n_frames < requested:
            raise SignAffectError(
                f"{n_frames} frames cannot make {requested} folds", "use fewer --folds"
            )
        n_folds = requested
        splitter: KFold | GroupKFold | LeaveOneGroupOut = KFold(
            n_splits=n_folds, shuffle=True, random_state=seed
        )
        splits = list(splitter.split(index))
    else:
        group = groups[cv]
        n_groups = len(np.unique(group))
        if n_groups < 2:
            raise SignAffectError(
                f"--cv {cv.value} needs at least 2 {cv.value}s, the matrix has {n_groups}",
                "ingest more of the corpus, or use --cv kfold",
            )
        if cv is CV.signer:
            n_folds = n_groups
            splitter = LeaveOneGroupOut()
            if requested != n_groups:
                note = f"--folds {requested} ignored: one fold per signer"
        else:
            n_folds = min(requested, n_groups)
            splitter = GroupKFold(n_splits=n_folds)
            if n_folds < requested:
                note = f"only {n_groups} {cv.value}s: {n_folds} folds instead of {requested}"
        splits = list(splitter.split(index, groups=group))
    return FoldPlan(cv=cv, n_folds=n_folds, requested=requested, note=note, splits=splits)


def shared_groups(
    splits: list[tuple[np.ndarray, np.ndarray]], group: np.ndarray
) -> Iterator[tuple[int, set[str]]]:
    """Folds whose train and test sides share a group (for checks and tests; none expected)."""
    for fold, (train, test) in enumerate(splits):
        shared = set(np.unique(group[train])) & set(np.unique(group[test]))
        if shared:
            yield fold, shared
