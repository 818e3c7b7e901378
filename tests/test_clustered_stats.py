"""The clustered statistics engine against slow, obviously-correct loops on a small corpus.

The invented corpus has 6 stories (clusters), each with tokens of 1-6 frames separated by
label-free gaps, two labels on tokens and four features on frames; story 0 does not code
feature 3's field. The loops replay the engine's documented random draws (module docstring
of `signaffect.stats.clustered_stats`) one replicate at a time, counting unit by unit.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import sparse
from scipy.stats import false_discovery_control

from signaffect.stats.association_model import model_settings, statistics
from signaffect.stats.clustered_stats import Incidence, Settings, associate

N_LABELS, N_FEATURES, N_STORIES = 2, 4, 6
UNCODED = (0, 3)  # (story, feature): story 0 does not code feature 3


def _corpus(seed: int = 7) -> dict[str, np.ndarray]:
    """Frames with their story (= source = cluster), token (-1 in gaps), labels, features."""
    rng = np.random.default_rng(seed)
    story, block, labels, features = [], [], [], []
    token = 0
    for s in range(N_STORIES):
        for _ in range(rng.integers(6, 12)):
            length = int(rng.integers(1, 7))
            token_labels = rng.random(N_LABELS) < 0.3
            for _ in range(length):
                story.append(s)
                block.append(token)
                labels.append(token_labels)
                on = rng.random(N_FEATURES) < 0.25 + 0.4 * token_labels[0] * np.array([1, 0, 0, 1])
                if s == UNCODED[0]:
                    on[UNCODED[1]] = False
                features.append(on)
            token += 1
            for _ in range(int(rng.integers(0, 3))):
                story.append(s)
                block.append(-1)
                labels.append(np.zeros(N_LABELS, dtype=bool))
                on = rng.random(N_FEATURES) < 0.2
                if s == UNCODED[0]:
                    on[UNCODED[1]] = False
                features.append(on)
    return {
        "story": np.array(story),
        "block": np.array(block),
        "labels": np.array(labels),
        "features": np.array(features),
    }


def _incidence(corpus: dict[str, np.ndarray]) -> Incidence:
    coverage = np.ones((N_STORIES, N_FEATURES), dtype=bool)
    coverage[UNCODED] = False
    return Incidence(
        labels=sparse.csr_array(corpus["labels"].astype(float)),
        features=sparse.csr_array(corpus["features"].astype(float)),
        source=corpus["story"],
        coverage=coverage,
        cluster=corpus["story"],
        block=corpus["block"],
    )


def _coded(story: int, feature: int) -> bool:
    return (story, feature) != UNCODED


def _table(story, labelled, active, feature: int, clusters) -> tuple[int, int, int, int]:
    """n_units, n_label, n_feature, n_both over `clusters` (with repeats), unit by unit."""
    n = nl = nf = a = 0
    for cluster in clusters:
        for u in range(len(story)):
            if story[u] != cluster or not _coded(cluster, feature):
                continue
            n += 1
            nl += bool(labelled[u])
            nf += bool(active[u])
            a += bool(labelled[u] and active[u])
    return n, nl, nf, a


def _odds_ratio(n: int, nl: int, nf: int, a: int) -> float:
    cells = (a, nl - a, nf - a, n - nl - nf + a)
    return (cells[0] + 0.5) * (cells[3] + 0.5) / ((cells[1] + 0.5) * (cells[2] + 0.5))


def test_counts_of_every_pair_and_bh(tmp_path) -> None:
    corpus = _corpus()
    result = associate(
        _incidence(corpus), Settings(resamples=20, seed=1, min_support=1, min_clusters=1)
    )
    story = corpus["story"]
    tested = set()
    for i in range(result.label_index.size):
        label, feature = int(result.label_index[i]), int(result.feature_index[i])
        tested.add((label, feature))
        n, nl, nf, a = _table(
            story,
            corpus["labels"][:, label],
            corpus["features"][:, feature],
            feature,
            range(N_STORIES),
        )
        got = (result.n_units[i], result.n_label[i], result.n_feature[i], result.n_both[i])
        assert got == (n, nl, nf, a)
        together = {
            int(c) for c in story[corpus["labels"][:, label] & corpus["features"][:, feature]]
        }
        assert result.n_clusters_both[i] == len(together)
        assert result.p_feature[i] == pytest.approx(nf / n)
        assert result.p_feature_given_label[i] == pytest.approx(a / nl)
        assert result.lift[i] == pytest.approx((a / nl) / (nf / n))
        assert result.odds_ratio[i] == pytest.approx(_odds_ratio(n, nl, nf, a))
    assert tested == {(lab, f) for lab in range(N_LABELS) for f in range(N_FEATURES)}
    np.testing.assert_allclose(result.q_value, false_discovery_control(result.p_value))
    # Coverage-aware: feature 3's denominator leaves out story 0's frames.
    i3 = np.flatnonzero(result.feature_index == 3)[0]
    assert result.n_units[i3] == int(np.sum(story != UNCODED[0]))


def test_bootstrap_ci_and_permutation_p_match_slow_loops() -> None:
    corpus = _corpus()
    seed, resamples, label, feature = 11, 30, 0, 0
    result = associate(_incidence(corpus), Settings(resamples=resamples, seed=seed))
    i = int(np.flatnonzero((result.label_index == label) & (result.feature_index == feature))[0])
    story, block = corpus["story"], corpus["block"]
    labelled, active = corpus["labels"][:, label], corpus["features"][:, feature]
    boot_seq, perm_seq = np.random.SeedSequence(seed).spawn(2)

    # Bootstrap: replicate r draws N_STORIES stories with replacement.
    picks = np.random.default_rng(boot_seq).integers(0, N_STORIES, size=(resamples, N_STORIES))
    ratios, lifts = [], []
    for r in range(resamples):
        n, nl, nf, a = _table(story, labelled, active, feature, picks[r])
        if nl == 0 or nf == 0:
            continue
        ratios.append(_odds_ratio(n, nl, nf, a))
        lifts.append((a / nl) / (nf / n))
    assert result.or_ci_low[i] == pytest.approx(np.quantile(ratios, 0.025), rel=1e-12)
    assert result.or_ci_high[i] == pytest.approx(np.quantile(ratios, 0.975), rel=1e-12)
    assert result.lift_ci_low[i] == pytest.approx(np.quantile(lifts, 0.025), rel=1e-12)
    assert result.lift_ci_high[i] == pytest.approx(np.quantile(lifts, 0.975), rel=1e-12)

    # Permutation: token labels move to another token of the same story.
    tokens = sorted({(int(story[u]), int(block[u])) for u in range(len(story)) if block[u] >= 0})
    token_label = {t: bool(labelled[block == t[1]][0]) for t in tokens}
    cluster_of = np.array([t[0] for t in tokens])
    observed = _odds_ratio(*_table(story, labelled, active, feature, range(N_STORIES)))
    rng = np.random.default_rng(perm_seq)
    extreme = 1
    for _ in range(resamples):
        order = np.argsort(cluster_of + rng.random(len(tokens)))
        moved = {tokens[order[j]][1]: token_label[tokens[j]] for j in range(len(tokens))}
        permuted = np.array([block[u] >= 0 and moved[int(block[u])] for u in range(len(story))])
        statistic = _odds_ratio(*_table(story, permuted, active, feature, range(N_STORIES)))
        extreme += abs(math.log(statistic)) >= abs(math.log(observed)) * (1 - 1e-9)
    assert result.p_value[i] == pytest.approx(extreme / (resamples + 1))


def test_same_seed_same_numbers_and_strong_effect_is_found() -> None:
    corpus = _corpus()
    settings = Settings(resamples=200, seed=3)
    first = associate(_incidence(corpus), settings)
    second = associate(_incidence(corpus), settings)
    for name in ("or_ci_low", "or_ci_high", "lift_ci_low", "p_value", "q_value"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    other = associate(_incidence(corpus), Settings(resamples=200, seed=4))
    assert not np.array_equal(first.or_ci_low, other.or_ci_low)
    # Label 0 raises feature 0 (built in); label 1 is unrelated to feature 1.
    strong = (first.label_index == 0) & (first.feature_index == 0)
    assert first.or_ci_low[strong][0] > 1 and first.p_value[strong][0] < 0.05
    assert first.or_ci_low[strong][0] <= first.odds_ratio[strong][0] <= first.or_ci_high[strong][0]


def test_min_support_and_bad_blocks() -> None:
    corpus = _corpus()
    incidence = _incidence(corpus)
    result = associate(incidence, Settings(resamples=10, min_support=10**6))
    assert result.label_index.size == 0 and result.q_value.size == 0
    one_story_short = associate(incidence, Settings(resamples=10, min_clusters=N_STORIES + 1))
    assert one_story_short.label_index.size == 0
    mixed = corpus["labels"].copy()
    first_token = np.flatnonzero(corpus["block"] == 0)
    if first_token.size < 2:
        first_token = np.flatnonzero(corpus["block"] == 1)
    mixed[first_token[0], 0] = not mixed[first_token[1], 0]
    with pytest.raises(ValueError, match="same labels"):
        associate(
            Incidence(
                sparse.csr_array(mixed.astype(float)),
                incidence.features,
                incidence.source,
                incidence.coverage,
                incidence.cluster,
                incidence.block,
            ),
            Settings(resamples=10, min_support=1),
        )
    uncoded = corpus["features"].copy()
    uncoded[np.flatnonzero(corpus["story"] == UNCODED[0])[0], UNCODED[1]] = True
    with pytest.raises(ValueError, match="does not code"):
        associate(
            Incidence(
                incidence.labels,
                sparse.csr_array(uncoded.astype(float)),
                incidence.source,
                incidence.coverage,
                incidence.cluster,
                incidence.block,
            ),
            Settings(resamples=10),
        )


def test_model_without_labels_tests_nothing() -> None:
    """A corpus ingested without lexicons: empty label lists (typed list<null>), no rows."""
    units = pa.table(
        {
            "grain": ["sign", "sign"],
            "source_file": ["a.xml", "a.xml"],
            "cluster_key": ["a", "a"],
            "block_key": ["t1", "t2"],
            "labels": pa.array([[], []], pa.list_(pa.null())),
            "features": [["eye brows=raised"], []],
            "unit_key": ["t1", "t2"],
        }
    )
    coverage = pa.table({"feature": ["eye brows=raised"], "source_file": ["a.xml"]})
    settings = model_settings(10, 1, '{"frame": 1, "sign": 1, "utterance": 1}', 1, "story")
    result = statistics(units, coverage, settings)
    assert result.num_rows == 0 and "odds_ratio" in result.column_names
