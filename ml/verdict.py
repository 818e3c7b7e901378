"""The verdict: is the model better than guessing, on unseen stories, against both baselines?

Two baselines that use no input: the label prior (stratified draws at each label's training
rate) and the all-positive predictor (every label on every unit). Micro-F1 rewards recall
on rare labels, so predicting everything scores above zero on its own; a model is "above"
only when it beats both.

Frames are not independent (a story's frames share its labels and its signer), so the
uncertainty comes from a cluster bootstrap over held-out stories: draw the stories with
replacement (`signaffect.stats.clustered_stats.cluster_weights`, the one story bootstrap),
pool every out-of-fold row of the drawn stories (a story drawn twice counts twice), and
recompute micro-F1 for the model and both baselines from the same draw. The paired
differences per draw give the intervals that decide the reading. Intervals are percentile
intervals.

The label-prior baseline is the stratified draws actually stored with the predictions (one
label set per test frame, seeded per fold), not its expected F1: the verdict then compares
stored predictions, and the draws' own noise is part of the interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.metrics import error_counts, micro_f1_of_counts
from ml.oof import ALL_POSITIVE, STRATIFIED, OutOfFold, Predictions
from signaffect.stats.clustered_stats import partial_cluster_weights, percentile_bounds

ABOVE = "above both baselines"
BELOW = "below a baseline"
TIED = "not distinguishable from a baseline"
READINGS = (ABOVE, TIED, BELOW)
LEVEL = 0.95
#: Decimals every interval is shown with; a bound that shows as 0 touches 0.
DECIMALS = 3


@dataclass(frozen=True)
class Interval:
    """A point estimate (the full sample) and its 95% bootstrap interval."""

    estimate: float
    low: float
    high: float

    def text(self, signed: bool = False) -> str:
        fmt = f"+.{DECIMALS}f" if signed else f".{DECIMALS}f"
        return f"{self.estimate:{fmt}} [{self.low:{fmt}}, {self.high:{fmt}}]"

    @property
    def above_zero(self) -> bool:
        """The interval excludes 0 from above, as shown: a low bound of +0.000 touches 0."""
        return round(self.low, DECIMALS) > 0

    @property
    def below_zero(self) -> bool:
        return round(self.high, DECIMALS) < 0


@dataclass(frozen=True)
class Verdict:
    """Model and baseline micro-F1, the paired differences, and the one-line reading."""

    model: Interval
    baseline: Interval  # the label prior (stratified)
    difference: Interval  # model minus label prior
    all_positive: Interval
    all_positive_difference: Interval  # model minus all-positive
    reading: str
    n_stories: int
    resamples: int
    #: What the scores are measured on, e.g. "held-out stories" (see HELD_OUT).
    held_out: str = "held-out stories"
    #: Permutation test (ml.permutation): p-value and how many permutations, or None / 0.
    p_value: float | None = None
    permutations: int = 0

    def sentence(self, model_name: str) -> str:
        """The verdict in words, numbers first-class: the line every output leads with."""
        test = (
            f"; permutation test p = {self.p_value:.3f} ({self.permutations} story "
            "permutations)"
            if self.p_value is not None
            else ""
        )
        return (
            f"Verdict: {model_name} is {self.reading} on {self.held_out}. Micro-F1 "
            f"{self.model.text()} vs label-prior baseline {self.baseline.text()} "
            f"(difference {self.difference.text(signed=True)}) and all-positive baseline "
            f"{self.all_positive.text()} (difference "
            f"{self.all_positive_difference.text(signed=True)}); 95% CIs, bootstrap over "
            f"{self.n_stories} stories, {self.resamples} resamples; above only when both "
            f"difference intervals exclude 0{test}."
        )


def story_counts(predictions: Predictions, n_stories: int) -> np.ndarray:
    """Summed (TP, FP, FN) of every story's out-of-fold rows: stories x 3."""
    counts = error_counts(predictions.y_true, predictions.y_pred, predictions.weight)
    return np.stack(
        [np.bincount(predictions.story, counts[:, k], minlength=n_stories) for k in range(3)],
        axis=1,
    )


def story_draws(oof: OutOfFold, resamples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The held-out stories (indices into `oof.stories`) and the bootstrap: resamples x
    stories, how often each story is drawn (0 for stories never held out)."""
    n = len(oof.stories)
    held_out = np.flatnonzero(np.bincount(oof.predictions[oof.model].story, minlength=n))
    return held_out, partial_cluster_weights(n, held_out, resamples, seed)


def interval(estimate: float, draws: np.ndarray) -> Interval:
    """`estimate` with the 95% percentile interval of its bootstrap `draws`."""
    return Interval(float(estimate), *percentile_bounds(draws, LEVEL))


def reading(*differences: Interval) -> str:
    """Above when every difference's interval excludes 0 from above; below when any
    excludes it from below; else not distinguishable (also when a bound touches 0)."""
    if all(d.above_zero for d in differences):
        return ABOVE
    if any(d.below_zero for d in differences):
        return BELOW
    return TIED


#: What each CV holds out, as the verdict says it (kfold holds out frames, not stories).
HELD_OUT = {
    "story": "held-out stories",
    "utterance": "held-out utterances",
    "signer": "held-out signers",
    "kfold": "held-out frames of stories it also trained on (kfold)",
}


def decide(oof: OutOfFold, resamples: int, seed: int, cv: str = "story") -> Verdict:
    """The verdict from the stored out-of-fold predictions of the model and the baselines."""
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    n = len(oof.stories)
    held_out, times = story_draws(oof, resamples, seed)
    scores: dict[str, Interval] = {}
    per_draw: dict[str, np.ndarray] = {}
    for name in (oof.model, STRATIFIED, ALL_POSITIVE):
        counts = story_counts(oof.predictions[name], n)
        per_draw[name] = micro_f1_of_counts(times @ counts)
        whole = float(micro_f1_of_counts(counts.sum(axis=0)))
        scores[name] = interval(whole, per_draw[name])
    model = scores[oof.model]
    difference, all_positive_difference = (
        interval(model.estimate - scores[name].estimate, per_draw[oof.model] - per_draw[name])
        for name in (STRATIFIED, ALL_POSITIVE)
    )
    return Verdict(
        model=model,
        baseline=scores[STRATIFIED],
        difference=difference,
        all_positive=scores[ALL_POSITIVE],
        all_positive_difference=all_positive_difference,
        reading=reading(difference, all_positive_difference),
        n_stories=len(held_out),
        resamples=resamples,
        held_out=HELD_OUT[cv],
    )
