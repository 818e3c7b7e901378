"""Permutation test of the verdict: refit the whole CV with labels shuffled between stories.

Under the null hypothesis the face says nothing about a story's labels, so the stories'
label tracks may be exchanged. Each permutation gives every story the label track of
another story (a random permutation of the stories), stretched or shrunk to its length by
nearest frame: a label's runs, its co-occurrences and the story-level clustering survive,
only the link between a frame's face and its labels is broken. The same CV, model and
baseline are refitted on the permuted labels, and the statistic is the verdict's paired
difference (model minus label-prior baseline micro-F1). p = (1 + null draws >= observed)
/ (1 + permutations). Each permutation costs one whole cross-validation, so their number
is a setting (`--permutations`, default 0: not run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ml.data import FrameMatrix


def shuffle_stories(matrix: FrameMatrix, rng: np.random.Generator) -> FrameMatrix:
    """The same frames, each story carrying another story's label track (nearest frame)."""
    stories = np.unique(matrix.story)
    frames = [np.flatnonzero(matrix.story == s) for s in stories]
    donors = rng.permutation(len(stories))
    Y = np.empty_like(matrix.Y)
    for own, donor in zip(frames, (frames[d] for d in donors), strict=True):
        Y[own] = matrix.Y[donor[np.arange(len(own)) * len(donor) // len(own)]]
    return replace(matrix, Y=Y)


def p_value(
    matrix: FrameMatrix,
    observed: float,
    statistic: Callable[[FrameMatrix], float],
    permutations: int,
    seed: int,
) -> float:
    """Share of story-permuted refits whose statistic reaches `observed` (+1 smoothed)."""
    rng = np.random.default_rng(seed)
    null = [statistic(shuffle_stories(matrix, rng)) for _ in range(permutations)]
    return (1 + sum(value >= observed for value in null)) / (1 + permutations)
