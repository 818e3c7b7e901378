"""`signaffect.stats.agreement` against a slow, straightforward computation written here
(double loops for AUC, explicit 2x2 counts for kappa, event lists for precision/recall),
on synthetic frames whose truth is known. Synthetic: these numbers check the code, they
are not findings about any signer."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from signaffect.stats.agreement import (
    CANDIDATE_QUANTILES,
    AgreementFrames,
    agreement,
)
from signaffect.stats.agreement_settings import AgreementSettings

SETTINGS = AgreementSettings(tolerance=3, min_event_frames=2, resamples=200, seed=7)


def synthetic(seed: int = 0, shift: float = 1.5, n_signers: int = 3) -> AgreementFrames:
    """Signers x 2 stories x 3 utterances x 40 frames; each utterance has one or two coded
    spans; the measure is `shift` higher on coded frames, plus a signer offset and noise."""
    rng = np.random.default_rng(seed)
    value, coded, signer, story, utterance, frame = [], [], [], [], [], []
    for s, st, u in itertools.product(range(n_signers), range(2), range(3)):
        on = np.zeros(40, dtype=bool)
        for _ in range(rng.integers(1, 3)):
            start = int(rng.integers(0, 30))
            on[start : start + int(rng.integers(3, 10))] = True
        value.append(on * shift + 0.3 * s + rng.normal(0, 1, 40))
        coded.append(on)
        signer.append(np.full(40, s))
        story.append(np.full(40, 2 * s + st))
        utterance.append(np.full(40, 100 * s + 10 * st + u))
        frame.append(np.arange(40))
    cat = np.concatenate
    return AgreementFrames(
        cat(value), cat(coded), cat(signer), cat(story), cat(utterance), cat(frame)
    )


def subset(f: AgreementFrames, rows: np.ndarray) -> AgreementFrames:
    return AgreementFrames(
        f.value[rows], f.coded[rows], f.signer[rows], f.story[rows], f.utterance[rows],
        f.frame[rows],
    )


def slow_auc(value, coded) -> float:
    pos = [v for v, c in zip(value, coded, strict=True) if c]
    neg = [v for v, c in zip(value, coded, strict=True) if not c]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def slow_kappa(predicted, coded) -> float:
    n = len(coded)
    a = sum(1 for p, c in zip(predicted, coded, strict=True) if p and c)
    b = sum(1 for p, c in zip(predicted, coded, strict=True) if p and not c)
    c_ = sum(1 for p, c in zip(predicted, coded, strict=True) if not p and c)
    d = n - a - b - c_
    observed = (a + d) / n
    chance = ((a + b) * (a + c_) + (c_ + d) * (b + d)) / n**2
    return (observed - chance) / (1 - chance)


def slow_predictions(f: AgreementFrames) -> list[bool]:
    predicted = [False] * len(f.value)
    for held in sorted(set(f.signer.tolist())):
        train = [i for i in range(len(f.value)) if f.signer[i] != held]
        tv = [float(f.value[i]) for i in train]
        tc = [bool(f.coded[i]) for i in train]
        direction = 1 if slow_auc(tv, tc) >= 0.5 else -1
        oriented = [direction * v for v in tv]
        best, best_kappa = None, -np.inf
        for t in sorted(set(np.quantile(oriented, CANDIDATE_QUANTILES).tolist())):
            k = slow_kappa([v >= t for v in oriented], tc)
            if k > best_kappa:
                best, best_kappa = t, k
        for i in range(len(f.value)):
            if f.signer[i] == held:
                predicted[i] = direction * f.value[i] >= best
    return predicted


def slow_events(f: AgreementFrames, flags, min_frames: int) -> list[tuple[int, int]]:
    """(utterance, onset) of each run of flagged frames at least min_frames long."""
    events, i = [], 0
    while i < len(flags):
        if flags[i]:
            j = i
            while (j + 1 < len(flags) and flags[j + 1] and f.utterance[j + 1] == f.utterance[i]
                   and f.frame[j + 1] == f.frame[j] + 1):  # fmt: skip
                j += 1
            if j - i + 1 >= min_frames:
                events.append((int(f.utterance[i]), int(f.frame[i])))
            i = j + 1
        else:
            i += 1
    return events


def slow_match(coded_events, predicted_events, tolerance: int) -> int:
    pairs = sorted(
        (abs(p[1] - c[1]), c[1], p[1], ci, pi)
        for ci, c in enumerate(coded_events)
        for pi, p in enumerate(predicted_events)
        if c[0] == p[0] and abs(p[1] - c[1]) <= tolerance
    )
    used_c, used_p = set(), set()
    for _, _, _, ci, pi in pairs:
        if ci not in used_c and pi not in used_p:
            used_c.add(ci)
            used_p.add(pi)
    return len(used_c)


def test_agreement_matches_the_slow_computation_pooled_and_per_signer() -> None:
    f = synthetic()
    result = agreement(f, SETTINGS)
    predicted = slow_predictions(f)
    assert (result.predicted == 1).tolist() == predicted
    for group in result.groups:
        idx = [i for i in range(len(f.value)) if group.signer in (-1, f.signer[i])]
        sub = subset(f, np.array(idx))
        coded_events = slow_events(sub, sub.coded.tolist(), 1)
        predicted_events = slow_events(sub, [predicted[i] for i in idx], SETTINGS.min_event_frames)
        matched = slow_match(coded_events, predicted_events, SETTINGS.tolerance)
        assert group.n_frames == len(idx)
        assert group.auc.value == pytest.approx(slow_auc(sub.value, sub.coded), abs=1e-12)
        assert group.kappa.value == pytest.approx(
            slow_kappa([predicted[i] for i in idx], sub.coded.tolist()), abs=1e-12
        )
        assert (group.n_coded_events, group.n_predicted_events, group.n_matched_events) == (
            len(coded_events), len(predicted_events), matched)
        assert group.precision.value == pytest.approx(matched / len(predicted_events))
        assert group.recall.value == pytest.approx(matched / len(coded_events))
        for estimate in (group.auc, group.kappa, group.precision, group.recall):
            assert estimate.low <= estimate.value + 1e-9 <= estimate.high + 2e-9


def test_the_threshold_is_never_chosen_on_the_frames_scored() -> None:
    """Changing one signer's frames changes the other signers' thresholds, not its own."""
    f = synthetic(seed=3)
    before = {t.signer: t.threshold for t in agreement(f, SETTINGS).thresholds}
    moved = f.value.copy()
    moved[f.signer == 0] += 5.0
    changed = AgreementFrames(moved, f.coded, f.signer, f.story, f.utterance, f.frame)
    after = {t.signer: t.threshold for t in agreement(changed, SETTINGS).thresholds}
    assert after[0] == before[0]
    assert after[1] != before[1] and after[2] != before[2]


def test_a_perfect_measure_and_a_useless_one() -> None:
    f = synthetic(seed=1)
    perfect = AgreementFrames(f.coded.astype(float), f.coded, f.signer, f.story, f.utterance,
                              f.frame)  # fmt: skip
    pooled = agreement(perfect, SETTINGS).groups[0]
    assert (pooled.auc.value, pooled.kappa.value) == (1.0, 1.0)
    assert pooled.precision.value == pooled.recall.value == 1.0
    assert (pooled.onset_median, pooled.n_onsets) == (0.0, pooled.n_coded_events)
    useless = synthetic(seed=2, shift=0.0, n_signers=4)
    noise = agreement(useless, AgreementSettings(resamples=300)).groups[0]
    assert noise.auc.low < 0.5 < noise.auc.high
    assert abs(noise.kappa.value) < 0.15


def test_one_story_has_no_interval() -> None:
    f = synthetic(seed=4)
    one = f.story == 0
    sub = subset(f, one)
    group = agreement(sub, SETTINGS).groups[0]
    assert not np.isnan(group.auc.value)
    assert np.isnan(group.auc.low) and np.isnan(group.auc.high)
    # One signer: no other signer to choose a threshold on, so nothing rests on one.
    assert np.isnan(group.kappa.value) and np.isnan(group.recall.value)
    assert group.n_predicted_events == 0
