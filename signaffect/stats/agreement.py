"""How well a continuous face measure agrees with a manual code, frame by frame and event by
event, with the story as the unit of resampling.

Why these numbers (`cli.py agree`): AUC says how well the measure ranks coded frames above
the others whatever the threshold; Cohen's kappa says how well a frame-level yes/no made at
one threshold agrees beyond chance, and that threshold (and the measure's direction) is
chosen on the other signers, never on the frames scored (leave-one-signer-out: a threshold
tuned on the frames it is scored on flatters the measure); event precision and recall ask
whether the measure finds the coded spans themselves, a span found when its onset lies
within `tolerance` frames of a predicted span's; onset differences (predicted minus coded,
in frames, nearest predicted onset in the same utterance) say whether the measure leads or
lags the annotator. Neighbouring frames are near copies, so every interval is a percentile
bootstrap over whole stories (`clustered_stats.cluster_weights`), thresholds held fixed.

Pure numpy: the pipeline feeds arrays and stores what this returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from signaffect.stats.agreement_settings import AgreementSettings
from signaffect.stats.clustered_stats import (
    cluster_weights,
    generators,
    interval_quantiles,
    nan_quantiles,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
#: A statistic of per-story sums: (data, weights: draws x stories) -> one value per draw.
Statistic = Callable[[Any, FloatArray], FloatArray]

#: The quantiles of the training frames' values tried as thresholds.
CANDIDATE_QUANTILES = np.arange(1, 100) / 100.0


@dataclass(frozen=True)
class AgreementFrames:
    """One entry per utterance frame with a measured value, sorted by utterance then frame:
    the measure, whether the code is on the frame, and the frame's signer, story and
    utterance (integer codes) and frame number within its utterance."""

    value: FloatArray
    coded: BoolArray
    signer: IntArray
    story: IntArray
    utterance: IntArray
    frame: IntArray


@dataclass(frozen=True)
class Estimate:
    """A statistic and its story-bootstrap percentile interval (NaN when not estimable)."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class GroupAgreement:
    """Agreement over one group of frames: every signer pooled (signer -1) or one signer."""

    signer: int
    n_frames: int
    n_coded: int
    n_stories: int
    auc: Estimate
    kappa: Estimate
    precision: Estimate
    recall: Estimate
    n_coded_events: int
    n_predicted_events: int
    n_matched_events: int
    onset_median: float
    onset_q25: float
    onset_q75: float
    n_onsets: int


@dataclass(frozen=True)
class Threshold:
    """The direction (+1: high values mean the code) and threshold chosen for a signer on
    the other signers' frames; NaN threshold when there are no other signers."""

    signer: int
    direction: int
    threshold: float


@dataclass(frozen=True)
class Agreement:
    """Pooled first, then each signer; the held-out thresholds; each frame's prediction
    (1 or 0; NaN where its signer has no threshold)."""

    groups: list[GroupAgreement]
    thresholds: list[Threshold]
    predicted: FloatArray


def auc(value: FloatArray, coded: BoolArray) -> float:
    """P(a coded frame's value > an uncoded frame's), ties counting half; NaN without both."""
    tables = _auc_tables(value, coded, np.zeros(value.size, dtype=np.int64), 1)
    return float(_auc_from(tables, np.ones((1, 1)))[0])


def cohen_kappa(predicted: BoolArray, coded: BoolArray) -> float:
    """Cohen's kappa of two yes/no ratings of the same frames; NaN when chance is certain."""
    return float(_kappa(*(float(cell.sum()) for cell in _cells(predicted, coded))))


def agreement(frames: AgreementFrames, settings: AgreementSettings) -> Agreement:
    """Every statistic, pooled and per signer (thresholds leave-one-signer-out)."""
    thresholds = [_held_out(frames, signer) for signer in np.unique(frames.signer)]
    predicted = np.full(frames.value.size, np.nan)
    for rule in thresholds:
        mine = (frames.signer == rule.signer) & ~np.isnan(rule.threshold)
        predicted[mine] = rule.direction * frames.value[mine] >= rule.threshold
    groups = [_group(frames, predicted, np.ones(frames.value.size, bool), -1, settings)]
    groups += [
        _group(frames, predicted, frames.signer == rule.signer, rule.signer, settings)
        for rule in thresholds
    ]
    return Agreement(groups, thresholds, predicted)


def _held_out(frames: AgreementFrames, signer: int) -> Threshold:
    """Direction and kappa-best threshold from every frame of the other signers."""
    train = frames.signer != signer
    value, coded = frames.value[train], frames.coded[train]
    if not train.any() or coded.all() or not coded.any():
        return Threshold(int(signer), 1, float("nan"))
    direction = 1 if auc(value, coded) >= 0.5 else -1
    oriented = direction * value
    candidates = np.unique(np.quantile(oriented, CANDIDATE_QUANTILES))
    kappas = np.array([cohen_kappa(oriented >= t, coded) for t in candidates])
    best = int(np.nanargmax(kappas)) if not np.isnan(kappas).all() else 0
    return Threshold(int(signer), direction, float(candidates[best]))


def _group(
    frames: AgreementFrames,
    predicted: BoolArray,
    mask: BoolArray,
    signer: int,
    settings: AgreementSettings,
) -> GroupAgreement:
    """The statistics over the frames in `mask`, with story-bootstrap intervals; kappa and
    the events only over the frames whose signer has a held-out threshold (`predicted` is
    NaN-free there), none when no frame has."""
    value, coded = frames.value[mask], frames.coded[mask]
    story = np.unique(frames.story[mask], return_inverse=True)[1].astype(np.int64)
    n_stories = int(story.max()) + 1 if story.size else 0
    scored = ~np.isnan(predicted[mask])
    pred = predicted[mask][scored] > 0
    runs = _Events(
        frames.utterance[mask][scored], frames.frame[mask][scored], story[scored],
        coded[scored], pred, settings,
    )  # fmt: skip
    weights = cluster_weights(n_stories, settings.resamples, generators(settings.seed)[0])

    def boot(statistic: Statistic, data: Any) -> Estimate:
        return _estimate(statistic, data, weights, settings.confidence)

    pair_counts = _auc_tables(value, coded, story, n_stories)
    tables = np.stack([np.bincount(story[scored], weights=x.astype(float), minlength=n_stories)
                       for x in _cells(pred, coded[scored])])  # fmt: skip
    onsets = runs.onset_differences()
    quartiles = np.quantile(onsets, [0.25, 0.5, 0.75]) if onsets.size else np.full(3, np.nan)
    return GroupAgreement(
        signer=signer,
        n_frames=int(value.size),
        n_coded=int(coded.sum()),
        n_stories=n_stories,
        auc=boot(_auc_from, pair_counts),
        kappa=boot(_kappa_from, tables),
        precision=boot(_ratio_from, runs.precision_counts(n_stories)),
        recall=boot(_ratio_from, runs.recall_counts(n_stories)),
        n_coded_events=runs.n_coded,
        n_predicted_events=runs.n_predicted,
        n_matched_events=runs.n_matched,
        onset_median=float(quartiles[1]),
        onset_q25=float(quartiles[0]),
        onset_q75=float(quartiles[2]),
        n_onsets=int(onsets.size),
    )


def _estimate(
    statistic: Statistic, data: Any, weights: FloatArray, confidence: float
) -> Estimate:
    """The statistic on all stories (weight 1 each) and its percentile interval over the
    story draws `weights`; no interval from fewer than two stories."""
    point = float(statistic(data, np.ones((1, weights.shape[1])))[0])
    if weights.shape[1] < 2:
        return Estimate(point, float("nan"), float("nan"))
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = statistic(data, weights)
    low, high = nan_quantiles(draws[:, None], interval_quantiles(confidence))[:, 0]
    return Estimate(point, float(low), float(high))


def _auc_tables(
    value: FloatArray, coded: BoolArray, story: IntArray, n_stories: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(pairs, positives, negatives): pairs[s, t] = coded frames of story s above uncoded
    frames of story t (ties half), so a draw's AUC is w·pairs·w / ((w·pos)(w·neg))."""
    pairs = np.zeros((n_stories, n_stories))
    positives = np.bincount(story[coded], minlength=n_stories).astype(float)
    negatives = np.bincount(story[~coded], minlength=n_stories).astype(float)
    pos_value, pos_story = value[coded], story[coded]
    for t in range(n_stories):
        below = np.sort(value[~coded & (story == t)])
        left = np.searchsorted(below, pos_value, side="left")
        right = np.searchsorted(below, pos_value, side="right")
        pairs[:, t] = np.bincount(pos_story, weights=left + 0.5 * (right - left),
                                  minlength=n_stories)  # fmt: skip
    return pairs, positives, negatives


def _auc_from(tables: tuple[FloatArray, FloatArray, FloatArray], weights: FloatArray) -> FloatArray:
    pairs, positives, negatives = tables
    top = np.einsum("rs,st,rt->r", weights, pairs, weights)
    bottom = (weights @ positives) * (weights @ negatives)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)


def _cells(predicted: BoolArray, coded: BoolArray) -> tuple[BoolArray, ...]:
    """Per frame: both yes, predicted only, coded only, neither."""
    return (predicted & coded, predicted & ~coded, ~predicted & coded, ~predicted & ~coded)


def _kappa(a: Any, b: Any, c: Any, d: Any) -> Any:
    """Cohen's kappa of 2x2 counts (arrays or numbers)."""
    n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = (a + d) / n
        chance = ((a + b) * (a + c) + (c + d) * (b + d)) / (n * n)
        return np.where((n > 0) & (chance < 1), (observed - chance) / (1 - chance), np.nan)


def _kappa_from(tables: FloatArray, weights: FloatArray) -> FloatArray:
    return _kappa(*(weights @ tables.T).T)


def _ratio_from(counts: FloatArray, weights: FloatArray) -> FloatArray:
    top, bottom = weights @ counts[0], weights @ counts[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)


class _Events:
    """Coded and predicted events (runs of frames within an utterance; a predicted run needs
    `min_event_frames`), matched one to one, closest onsets first, within `tolerance`."""

    def __init__(
        self,
        utterance: IntArray,
        frame: IntArray,
        story: IntArray,
        coded: BoolArray,
        predicted: BoolArray,
        settings: AgreementSettings,
    ) -> None:
        self.coded = _runs(utterance, frame, story, coded, 1)
        self.predicted = _runs(utterance, frame, story, predicted, settings.min_event_frames)
        self.n_coded, self.n_predicted = len(self.coded[0]), len(self.predicted[0])
        self.coded_hit = np.zeros(self.n_coded, dtype=bool)
        self.predicted_hit = np.zeros(self.n_predicted, dtype=bool)
        pairs = sorted(
            (abs(int(self.predicted[1][j]) - int(self.coded[1][i])), int(self.coded[1][i]),
             int(self.predicted[1][j]), i, j)
            for i, j in self._same_utterance()
            if abs(int(self.predicted[1][j]) - int(self.coded[1][i])) <= settings.tolerance
        )  # fmt: skip
        for _, _, _, i, j in pairs:
            if not self.coded_hit[i] and not self.predicted_hit[j]:
                self.coded_hit[i] = self.predicted_hit[j] = True
        self.n_matched = int(self.coded_hit.sum())

    def _same_utterance(self) -> list[tuple[int, int]]:
        by_utterance: dict[int, list[int]] = {}
        for j, u in enumerate(self.predicted[0]):
            by_utterance.setdefault(int(u), []).append(j)
        return [(i, j) for i, u in enumerate(self.coded[0]) for j in by_utterance.get(int(u), [])]

    def onset_differences(self) -> IntArray:
        """Per coded event with a predicted one in its utterance: the nearest predicted
        onset minus the coded onset (ties: the earlier predicted onset)."""
        nearest: dict[int, int] = {}
        for i, j in self._same_utterance():
            diff = int(self.predicted[1][j]) - int(self.coded[1][i])
            if i not in nearest or (abs(diff), diff) < (abs(nearest[i]), nearest[i]):
                nearest[i] = diff
        return np.array([nearest[i] for i in sorted(nearest)], dtype=np.int64)

    def precision_counts(self, n_stories: int) -> FloatArray:
        return _per_story(self.predicted[2], self.predicted_hit, n_stories)

    def recall_counts(self, n_stories: int) -> FloatArray:
        return _per_story(self.coded[2], self.coded_hit, n_stories)


def _runs(
    utterance: IntArray, frame: IntArray, story: IntArray, on: BoolArray, min_frames: int
) -> tuple[IntArray, IntArray, IntArray]:
    """(utterance, onset frame, story) of each run of `on` frames at least `min_frames` long
    (a run breaks at a new utterance or a gap in the frame numbers)."""
    if not on.size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    joined = np.r_[False, (utterance[1:] == utterance[:-1]) & (frame[1:] == frame[:-1] + 1)]
    starts = np.flatnonzero(on & ~(joined & np.r_[False, on[:-1]]))
    ends = np.flatnonzero(on & ~(np.r_[joined[1:], False] & np.r_[on[1:], False]))
    keep = (ends - starts + 1) >= min_frames
    starts = starts[keep]
    return utterance[starts], frame[starts], story[starts]


def _per_story(story: IntArray, hit: BoolArray, n_stories: int) -> FloatArray:
    """Per story: events matched (row 0) and all events (row 1)."""
    return np.stack([
        np.bincount(story, weights=hit.astype(float), minlength=n_stories),
        np.bincount(story, minlength=n_stories).astype(float),
    ])
