"""The association engine against slow, obviously-correct computations on small corpora.

Sign grain (each unit its own block): the exact mid-p against a brute-force enumeration of
every within-story assignment of the labels, the exact interval against the same
enumeration tilted by the odds ratio, the MH odds ratio against statsmodels'
`StratifiedTable`, the item (gloss) statistics against a recount without the gloss. Frame
grain (tokens of several frames): no test, and the MH odds ratio's story-bootstrap interval
against a replay of the documented draws (module docstring of
`signaffect.stats.clustered_stats`).
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest
from scipy import sparse
from scipy.stats import false_discovery_control
from statsmodels.stats.contingency_tables import StratifiedTable

from signaffect.stats.association_model import model_settings, statistics
from signaffect.stats.clustered_stats import Incidence, Settings, associate
from signaffect.stats.exact_stratified import mantel_haenszel

N_LABELS, N_FEATURES, N_STORIES = 2, 4, 6
UNCODED = (0, 3)  # (story, feature): story 0 does not code feature 3
#: Tokens per story of the corpus small enough to enumerate (3 stories).
SMALL = (6, 7, 5)


def _tokens(sizes: tuple[int, ...], seed: int = 7) -> dict[str, np.ndarray]:
    """Sign tokens: story, labels (label 0 raises features 0 and 3), features and a gloss."""
    rng = np.random.default_rng(seed)
    story = np.repeat(np.arange(len(sizes)), sizes)
    labels = rng.random((story.size, N_LABELS)) < 0.35
    boost = 0.45 * labels[:, [0]] * np.array([1, 0, 0, 1])
    features = rng.random((story.size, N_FEATURES)) < 0.25 + boost
    features[story == UNCODED[0], UNCODED[1]] = False
    return {
        "story": story,
        "labels": labels,
        "features": features,
        "gloss": rng.integers(0, 4, story.size),
    }


def _incidence(corpus: dict[str, np.ndarray], family: np.ndarray | None = None) -> Incidence:
    coverage = np.ones((int(corpus["story"].max()) + 1, N_FEATURES), dtype=bool)
    coverage[UNCODED] = False
    return Incidence(
        labels=sparse.csr_array(corpus["labels"].astype(float)),
        features=sparse.csr_array(corpus["features"].astype(float)),
        source=corpus["story"],
        coverage=coverage,
        cluster=corpus["story"],
        block=corpus.get("block", np.arange(corpus["story"].size)),
        item=corpus.get("gloss"),
        family=family,
    )


def _strata(corpus, label: int, feature: int, keep=None) -> list[tuple[int, int, int, int]]:
    """Per story in files coding the feature: (n, labelled, with feature, with both)."""
    out = []
    for s in range(int(corpus["story"].max()) + 1):
        if (s, feature) == UNCODED:
            continue
        units = corpus["story"] == s
        if keep is not None:
            units &= keep
        lab, feat = corpus["labels"][units, label], corpus["features"][units, feature]
        out.append((int(units.sum()), int(lab.sum()), int(feat.sum()), int((lab & feat).sum())))
    return out


def _enumerated(strata, psi: float = 1.0) -> dict[int, float]:
    """Weight psi^T of every joint within-story label assignment, summed by the
    co-occurrence count T, by brute force: every choice of m_k of each story's n_k tokens."""
    choices = [
        list(itertools.combinations([True] * t + [False] * (n - t), m)) for n, m, t, _ in strata
    ]
    weights: dict[int, float] = {}
    for picked in itertools.product(*choices):
        both = sum(sum(chosen) for chosen in picked)
        weights[both] = weights.get(both, 0.0) + psi**both
    return weights


def _mid_p_tails(strata, psi: float = 1.0) -> tuple[float, float]:
    """P(T < t) + P(T = t) / 2 and P(T > t) + P(T = t) / 2 under odds ratio psi."""
    weights = _enumerated(strata, psi)
    total = sum(weights.values())
    observed = sum(a for *_, a in strata)
    half = weights.get(observed, 0.0) / 2
    below = sum(w for x, w in weights.items() if x < observed)
    above = sum(w for x, w in weights.items() if x > observed)
    return (below + half) / total, (above + half) / total


def _stratified(strata) -> StratifiedTable:
    return StratifiedTable(
        np.stack([np.array([[a, m - a], [t - a, n - m - t + a]]) for n, m, t, a in strata], axis=2)
    )


def test_exact_p_and_interval_equal_brute_force_enumeration() -> None:
    """3 pairs of a 3-story corpus: the mid-p is twice the smaller enumerated tail, and at
    each bound of the interval the matching enumerated tail is 2.5%."""
    corpus = _tokens(SMALL)
    result = associate(_incidence(corpus), Settings(resamples=10, min_support=1, min_clusters=1))
    assert result.label_index.size >= 3
    for j in (0, 1, result.label_index.size - 1):
        i = [j]
        label, feature = int(result.label_index[j]), int(result.feature_index[j])
        strata = _strata(corpus, label, feature)
        below, above = _mid_p_tails(strata)
        assert result.p_value[i[0]] == pytest.approx(min(1.0, 2 * min(below, above)), rel=1e-9)
        low, high = result.or_ci_low[i[0]], result.or_ci_high[i[0]]
        if low > 0:
            assert _mid_p_tails(strata, low)[1] == pytest.approx(0.025, abs=1e-7)
        if np.isfinite(high):
            assert _mid_p_tails(strata, high)[0] == pytest.approx(0.025, abs=1e-7)
        assert (low > 1 or high < 1) == (result.p_value[i[0]] < 0.05)


def test_mh_odds_ratio_equals_statsmodels_stratified_table() -> None:
    corpus = _tokens((12, 9, 15, 11, 8, 10))
    result = associate(_incidence(corpus), Settings(resamples=10, min_support=1, min_clusters=1))
    for i in range(result.label_index.size):
        strata = _strata(corpus, int(result.label_index[i]), int(result.feature_index[i]))
        expected = _stratified(strata).oddsratio_pooled
        assert result.odds_ratio[i] == pytest.approx(expected, rel=1e-12)


def test_counts_of_every_pair_and_bh_within_families() -> None:
    corpus = _tokens((12, 9, 15, 11, 8, 10))
    family = np.array([0, 0, 1, 1])
    result = associate(
        _incidence(corpus, family), Settings(resamples=20, seed=1, min_support=1, min_clusters=1)
    )
    for i in range(result.label_index.size):
        label, feature = int(result.label_index[i]), int(result.feature_index[i])
        n, m, t, a = (sum(x) for x in zip(*_strata(corpus, label, feature), strict=True))
        got = (result.n_units[i], result.n_label[i], result.n_feature[i], result.n_both[i])
        assert got == (n, m, t, a)
        assert result.lift[i] == pytest.approx((a / m) / (t / n))
    for code in (0, 1):
        members = family[result.feature_index] == code
        np.testing.assert_allclose(
            result.q_value[members], false_discovery_control(result.p_value[members])
        )
    # Coverage-aware: feature 3's denominator leaves out story 0's tokens.
    i3 = np.flatnonzero(result.feature_index == 3)[0]
    assert result.n_units[i3] == int(np.sum(corpus["story"] != UNCODED[0]))


def test_leaving_out_the_top_gloss_recounts_without_it() -> None:
    corpus = _tokens((12, 9, 15, 11, 8, 10))
    result = associate(_incidence(corpus), Settings(resamples=10, min_support=1, min_clusters=1))
    items = result.items
    for i in range(result.label_index.size):
        label, feature = int(result.label_index[i]), int(result.feature_index[i])
        both = corpus["labels"][:, label] & corpus["features"][:, feature]
        glosses = np.bincount(corpus["gloss"][both], minlength=4)
        assert items.n_items_both[i] == np.count_nonzero(glosses)
        assert items.top_item[i] == np.argmax(glosses)
        assert items.top_item_both[i] == glosses.max()
        without = _strata(corpus, label, feature, keep=corpus["gloss"] != items.top_item[i])
        expected = mantel_haenszel(
            *(np.array([[s[j]] for s in without], float) for j in (3, 1, 2, 0))
        )
        np.testing.assert_allclose(items.odds_ratio[i], expected[0], rtol=1e-12)


def test_same_counts_same_numbers_and_strong_effect_is_found() -> None:
    """The exact test has no seed: two seeds give the same p and OR interval."""
    corpus = _tokens((12, 9, 15, 11, 8, 10))
    first = associate(_incidence(corpus), Settings(resamples=50, seed=3))
    other = associate(_incidence(corpus), Settings(resamples=50, seed=4))
    for name in ("odds_ratio", "or_ci_low", "or_ci_high", "p_value", "q_value"):
        np.testing.assert_array_equal(getattr(first, name), getattr(other, name))
    assert first.or_ci_method == "exact conditional (mid-p)"
    strong = (first.label_index == 0) & (first.feature_index == 0)
    assert first.or_ci_low[strong][0] > 1 and first.p_value[strong][0] < 0.05
    assert first.or_ci_low[strong][0] <= first.odds_ratio[strong][0] <= first.or_ci_high[strong][0]


def _frames(seed: int = 5) -> dict[str, np.ndarray]:
    """Tokens of 1-4 frames each: the labels move with the token, features frame by frame."""
    tokens = _tokens((12, 9, 15, 11, 8, 10), seed)
    rng = np.random.default_rng(seed)
    length = rng.integers(1, 5, tokens["story"].size)
    unit = np.repeat(np.arange(length.size), length)
    features = tokens["features"][unit] & (rng.random((unit.size, N_FEATURES)) < 0.8)
    return {
        "story": tokens["story"][unit],
        "labels": tokens["labels"][unit],
        "features": features,
        "block": unit,
    }


def test_frame_grain_has_no_test_and_a_story_bootstrap_of_the_mh_odds_ratio() -> None:
    corpus = _frames()
    seed, resamples, label, feature = 11, 40, 1, 2
    result = associate(_incidence(corpus), Settings(resamples=resamples, seed=seed))
    assert np.isnan(result.p_value).all() and np.isnan(result.q_value).all()
    assert result.or_ci_method.startswith("story bootstrap")
    i = int(np.flatnonzero((result.label_index == label) & (result.feature_index == feature))[0])
    strata = _strata(corpus, label, feature)
    boot_seq, _ = np.random.SeedSequence(seed).spawn(2)
    picks = np.random.default_rng(boot_seq).integers(0, N_STORIES, size=(resamples, N_STORIES))
    ratios = []
    for r in range(resamples):
        drawn = [strata[k] for k in picks[r]]
        ratios.append(_stratified(drawn).oddsratio_pooled)
    # The bootstrap sums in single precision.
    assert result.or_ci_low[i] == pytest.approx(np.quantile(ratios, 0.025), rel=1e-5)
    assert result.or_ci_high[i] == pytest.approx(np.quantile(ratios, 0.975), rel=1e-5)


def test_min_support_and_uncoded_features() -> None:
    corpus = _tokens((12, 9, 15, 11, 8, 10))
    incidence = _incidence(corpus)
    result = associate(incidence, Settings(resamples=10, min_support=10**6))
    assert result.label_index.size == 0 and result.q_value.size == 0
    one_story_short = associate(incidence, Settings(resamples=10, min_clusters=N_STORIES + 1))
    assert one_story_short.label_index.size == 0
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
            "item_key": ["LOVE", None],
        }
    )
    coverage = pa.table({"feature": ["eye brows=raised"], "source_file": ["a.xml"]})
    settings = model_settings(10, 1, '{"frame": 1, "sign": 1, "utterance": 1}', 1, "story")
    result = statistics(units, coverage, settings)
    assert result.num_rows == 0 and "odds_ratio" in result.column_names
