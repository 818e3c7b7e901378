"""Label x feature association statistics conditional on the story, as a reviewer reads them.

Frames are near copies of their neighbours and sign tokens of one story share a signer, a
topic and a camera, so counting them as independent draws overstates the evidence. For
every (label, feature) pair at one grain (frames, sign tokens or utterances) this module
gives:

- the 2x2 counts over the units whose source file codes the feature's field at all
  (coverage-aware denominators), P(feature), P(feature | label) and lift;
- the story-stratified Mantel-Haenszel odds ratio, the exact within-story test of the
  co-occurrence count (two-sided mid-p) and the exact conditional interval that inverts it
  (`signaffect.stats.exact_stratified`): estimate, test and interval are all conditional
  on the cluster (the story) and use one criterion, so the interval excludes 1 exactly when
  the mid-p is below 0.05. The exact test assumes the units of a story are exchangeable,
  which holds for sign tokens and utterances (each unit is its own block); at frame grain
  the frames of one sign are near copies, not exchangeable, so no test is made (p and q are
  NaN: the frame grain is descriptive) and the interval is a percentile bootstrap of the MH
  odds ratio over whole clusters (Field & Welsh 2007, JRSS B 69:369-390), `resamples` draws;
- a percentile story-bootstrap interval of lift (descriptive; never used to rank);
- Benjamini-Hochberg q-values within each test family (`Incidence.family`: SignStream codes
  of each kind and their action-unit re-codings are separate families, never pooled);
- which items (glosses) the co-occurrences come from: how many distinct ones, the commonest
  and its count, and the MH odds ratio with its interval once every unit of that item is
  left out (leave-one-item-out), since an association carried by one word is a fact about
  the word, not the emotion (Clark 1973, the language-as-fixed-effect fallacy).

Random draws (the bootstrap only) are reproducible from one seed: the first generator of
`generators(seed)` draws `integers(0, C, size=(B, C))` (row r: the clusters of replicate r).

Pure numpy/scipy: the dbt model feeds it arrays and stores what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from signaffect.stats.exact_stratified import exact_test, mantel_haenszel, mh_terms

#: Pairs x resamples held in memory at once by the bootstrap's single-precision products.
#: Their bits depend on the product's shape, so this fixes the frame-grain OR interval.
_CHUNK_CELLS = 4_000_000
#: The same for exact integer sums (any shape gives the same bits): half, which takes the
#: model's peak from lift's four 16 MB inputs to the frame-grain ratio's product (1M
#: cells: no less memory, and slower).
_EXACT_CHUNK_CELLS = 2_000_000

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
#: Per pair, strata x pairs: units with both, with the label, with the feature, all units.
Tables = tuple[FloatArray, FloatArray, FloatArray, FloatArray]


@dataclass(frozen=True)
class Incidence:
    """The units of one grain.

    `labels` and `features` are units x labels / units x features 0/1 matrices. A unit
    counts for a feature only where its source file codes that feature's field:
    `coverage[source[u], f]`; a feature active where its field is not coded is an error.
    `cluster[u]` is the stratum and the unit the bootstrap draws. `block[u]` is the
    exchangeable block (sign token, utterance) whose labels move together; the exact test
    is made only when every unit is its own block. `item[u]` is the unit's lexical item
    (gloss), -1 when it has none. `family[f]` is the feature's test family for BH.
    """

    labels: sparse.csr_array
    features: sparse.csr_array
    source: IntArray
    coverage: NDArray[np.bool_]
    cluster: IntArray
    block: IntArray
    item: IntArray | None = None
    family: IntArray | None = None


@dataclass(frozen=True)
class Settings:
    """Bootstrap draws, the seed, the CI level, and when a pair is tested (estimable): at
    least `min_support` units with both, in at least `min_clusters` clusters. A pair seen
    together in one or two stories has an interval that describes those stories, not the
    corpus."""

    resamples: int = 10_000
    seed: int = 42
    min_support: int = 5
    min_clusters: int = 3
    confidence: float = 0.95


@dataclass(frozen=True)
class PairStatistics:
    """One entry per tested pair (label_index, feature_index), in (label, feature) order.
    `or_ci_method` says how the OR interval was made; item columns are -1 / NaN when the
    units have no items."""

    label_index: IntArray
    feature_index: IntArray
    n_units: IntArray
    n_label: IntArray
    n_feature: IntArray
    n_both: IntArray
    p_feature: FloatArray
    p_feature_given_label: FloatArray
    lift: FloatArray
    lift_ci_low: FloatArray
    lift_ci_high: FloatArray
    odds_ratio: FloatArray
    or_ci_low: FloatArray
    or_ci_high: FloatArray
    p_value: FloatArray
    q_value: FloatArray
    n_clusters_both: IntArray
    n_clusters: int
    resamples: int
    or_ci_method: str
    #: Units of the grain carrying the label in any file (the label's size, whatever the
    #: feature's coverage), and all units of the grain.
    n_label_all: IntArray
    n_units_all: int
    items: ItemStatistics = field(repr=False)


@dataclass(frozen=True)
class ItemStatistics:
    """Per pair: distinct items among the units with both, the commonest item (its index,
    -1 when none) and its units with both, and the OR and interval without that item."""

    n_items_both: IntArray
    top_item: IntArray
    top_item_both: IntArray
    odds_ratio: FloatArray
    or_ci_low: FloatArray
    or_ci_high: FloatArray


def generators(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Two independent generators of `seed`: the first draws every cluster bootstrap (the
    pair statistics' and the timing medians'); the second is kept so the first stays the
    stream it has always been."""
    boot, other = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(boot), np.random.default_rng(other)


def associate(incidence: Incidence, settings: Settings) -> PairStatistics:
    """Counts, MH OR with its exact (or, at frame grain, bootstrap) interval, exact mid-p,
    BH q within families, lift with its bootstrap interval and the item statistics."""
    if settings.resamples < 1:
        raise ValueError("resamples must be at least 1")
    cluster = np.unique(incidence.cluster, return_inverse=True)[1].astype(np.int64)
    n_clusters = int(cluster.max()) + 1 if cluster.size else 0
    per_cluster = _cluster_counts(incidence, cluster, n_clusters)
    n_units, n_feature, n_label, n_both = (array.sum(axis=0) for array in per_cluster)
    clusters_both = np.count_nonzero(per_cluster[3], axis=0)
    label_index, feature_index = np.nonzero(
        (n_both >= max(settings.min_support, 1)) & (clusters_both >= settings.min_clusters)
    )
    # A pair whose MH odds ratio is undefined (no stratum has a d > 0 or b c > 0: the
    # feature or the label is on every unit) is not estimable and not tested.
    defined = ~np.isnan(mantel_haenszel(*_pair_tables(per_cluster, (label_index, feature_index))))
    label_index, feature_index = label_index[defined], feature_index[defined]
    pick = (label_index, feature_index)
    tables = _pair_tables(per_cluster, pick)
    weights = cluster_weights(n_clusters, settings.resamples, generators(settings.seed)[0])
    exact = _each_unit_its_own_block(incidence.block)
    odds, low, high, p_value = estimates(tables, exact, weights, settings.confidence)
    lift_low, lift_high = _bootstrap_interval(tables, _lift, weights, settings.confidence)
    family = (
        np.zeros(incidence.features.shape[1], dtype=np.int64)
        if incidence.family is None
        else incidence.family
    )
    n_feature_p, n_units_p = n_feature[feature_index], n_units[feature_index]
    n_label_p, n_both_p = n_label[pick], n_both[pick]
    return PairStatistics(
        label_index=label_index.astype(np.int64),
        feature_index=feature_index.astype(np.int64),
        n_units=n_units_p.astype(np.int64),
        n_label=n_label_p.astype(np.int64),
        n_feature=n_feature_p.astype(np.int64),
        n_both=n_both_p.astype(np.int64),
        p_feature=n_feature_p / n_units_p,
        p_feature_given_label=n_both_p / n_label_p,
        lift=(n_both_p * n_units_p) / (n_label_p * n_feature_p),
        lift_ci_low=lift_low,
        lift_ci_high=lift_high,
        odds_ratio=odds,
        or_ci_low=low,
        or_ci_high=high,
        p_value=p_value,
        q_value=q_within_families(p_value, family[feature_index]),
        n_clusters_both=clusters_both[pick].astype(np.int64),
        n_clusters=n_clusters,
        resamples=settings.resamples,
        or_ci_method=OR_CI_METHODS[exact],
        n_label_all=np.asarray(incidence.labels.sum(axis=0)).ravel()[label_index].astype(np.int64),
        n_units_all=int(incidence.labels.shape[0]),
        items=_item_statistics(incidence, cluster, pick, tables, (exact, weights, settings)),
    )


def beats_chance(result: PairStatistics, level: float = 0.05) -> NDArray[np.bool_]:
    """The one criterion of "distinguishable from chance": q < `level` where a test is made,
    the OR's interval excluding 1 where none is (frame grain)."""
    excludes = (result.or_ci_low > 1) | (result.or_ci_high < 1)
    return np.where(np.isnan(result.q_value), excludes, result.q_value < level)


def one_sign(result: PairStatistics) -> NDArray[np.bool_]:
    """A pair resting on one item: its co-occurrences are one item, or its interval excludes
    1 and no longer does on the same side once that item is left out. False without items."""
    items = result.items
    above, below = result.or_ci_low > 1, result.or_ci_high < 1
    with np.errstate(invalid="ignore"):
        kept = (above & (items.or_ci_low > 1)) | (below & (items.or_ci_high < 1))
    rests = (items.n_items_both == 1) | ((above | below) & ~kept)
    return (items.n_items_both >= 1) & rests


#: How the OR interval is made, by whether the units are exchangeable within a cluster.
OR_CI_METHODS = {
    True: "exact conditional (mid-p)",
    False: "story bootstrap of the MH odds ratio (percentile)",
}


def estimates(
    tables: Tables, exact: bool, weights: FloatArray, confidence: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """MH OR, its interval's bounds and the exact mid-p (NaN when not `exact`) per pair."""
    odds = mantel_haenszel(*tables)
    if exact:
        p_value, low, high = exact_test(*tables, confidence=confidence)
        return odds, low, high, p_value
    low, high = _bootstrap_interval(mh_terms(*tables), _ratio, weights, confidence)
    return odds, low, high, np.full(odds.size, np.nan)


def q_within_families(p_value: FloatArray, family: IntArray) -> FloatArray:
    """Benjamini-Hochberg q of each pair among the pairs of its family (NaN p stays NaN)."""
    q_value = np.full(p_value.size, np.nan)
    for code in np.unique(family):
        members = np.flatnonzero((family == code) & ~np.isnan(p_value))
        if members.size:
            q_value[members] = benjamini_hochberg(p_value[members])
    return q_value


def benjamini_hochberg(p_value: FloatArray) -> FloatArray:
    """BH-adjusted p-values, step for step `scipy.stats.false_discovery_control(p)` (so the
    same bits), without importing scipy.stats, which costs more than the whole test."""
    if p_value.size <= 1:
        return p_value.copy()
    order = np.argsort(p_value)
    ranked = p_value[order] * (p_value.size / np.arange(1, p_value.size + 1, dtype=np.float64))
    np.minimum.accumulate(ranked[::-1], out=ranked[::-1])
    q_value = np.empty_like(ranked)
    q_value[order] = ranked
    return np.clip(q_value, 0.0, 1.0)


def _each_unit_its_own_block(block: IntArray) -> bool:
    return bool(block.size) and bool((block >= 0).all()) and np.unique(block).size == block.size


def _pair_tables(
    per_cluster: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    pick: tuple[IntArray, IntArray],
) -> Tables:
    n_units, n_feature, n_label, n_both = per_cluster
    label_index, feature_index = pick
    return (
        n_both[:, label_index, feature_index],
        n_label[:, label_index, feature_index],
        n_feature[:, feature_index],
        n_units[:, feature_index],
    )


def _bootstrap_interval(
    columns: Tables | tuple[FloatArray, FloatArray],
    statistic: Callable[..., FloatArray],
    weights: FloatArray,
    confidence: float,
) -> tuple[FloatArray, FloatArray]:
    """Percentile interval per pair of `statistic` of the weighted sums of `columns`
    (clusters x pairs each) over the cluster draws `weights` (resamples x clusters); a draw
    whose statistic is NaN (undefined) is left out."""
    quantiles = interval_quantiles(confidence)
    n_pairs = columns[0].shape[1]
    bounds = np.full((2, n_pairs), np.nan)
    chunk = max(1, _CHUNK_CELLS // max(weights.shape[0], 1))
    # Single precision: 7 digits are plenty for a percentile, and it halves the work.
    draws = weights.astype(np.float32)
    if _exact_in_single(columns, weights):
        # Exact integer sums, in any order: pairs x draws at once, each distinct column once.
        summed = [_DistinctSums(x, draws) for x in columns]
        chunk = max(1, _EXACT_CHUNK_CELLS // max(weights.shape[0], 1))
        for start in range(0, n_pairs, chunk):
            part = slice(start, start + chunk)
            with np.errstate(divide="ignore", invalid="ignore"):
                values = statistic(*(sums.of(part) for sums in summed))
            bounds[:, part] = row_quantiles(values, quantiles)
        return bounds[0], bounds[1]
    for start in range(0, n_pairs, chunk):
        part = slice(start, start + chunk)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = statistic(*(draws @ x[:, part].astype(np.float32) for x in columns))
        bounds[:, part] = row_quantiles(np.ascontiguousarray(values.T), quantiles)
    return bounds[0], bounds[1]


def _exact_in_single(columns: Sequence[FloatArray], weights: FloatArray) -> bool:
    """Whether every weighted sum is an integer below 2^24, which single precision holds
    exactly whatever the order of the additions (so the layout of the product is free)."""
    bound = float(weights.sum(axis=1).max(initial=0.0))
    return all(
        not x.size or (np.array_equal(x, np.rint(x)) and bound * np.abs(x).max() < 2**24)
        for x in columns
    )


class _DistinctSums:
    """The draws' sums of one clusters x pairs array, pairs x draws: computed once per
    distinct column when few enough (a feature's units and coverage repeat for every label
    paired with it), else per chunk of pairs."""

    def __init__(self, column: FloatArray, draws: NDArray[np.float32]) -> None:
        self.column, self.draws = column, draws
        rows = np.ascontiguousarray(column.T)
        first: dict[bytes, int] = {}
        self.index = np.array(
            [first.setdefault(row.tobytes(), len(first)) for row in rows], dtype=np.int64
        )
        self.sums: NDArray[np.float32] | None = None
        if len(first) * 2 <= rows.shape[0] and len(first) * draws.shape[0] <= _CHUNK_CELLS:
            distinct = rows[np.unique(self.index, return_index=True)[1]]
            self.sums = distinct.astype(np.float32) @ draws.T

    def of(self, part: slice) -> NDArray[np.float32]:
        """The sums of the pairs `part`, pairs x draws."""
        if self.sums is not None:
            return self.sums[self.index[part]]
        return self.column[:, part].T.astype(np.float32) @ self.draws.T


def _ratio(top: FloatArray, bottom: FloatArray) -> FloatArray:
    """The MH odds ratio of summed terms; undefined when both sums are 0 (the sums are
    never negative). Written over `top`, a fresh sum: one draws x pairs array, not four."""
    undefined = (top <= 0) & (bottom <= 0)
    np.divide(top, bottom, out=top)
    top[undefined] = np.nan
    return top


def _lift(a: FloatArray, m: FloatArray, t: FloatArray, n: FloatArray) -> FloatArray:
    """Lift = a n / (m t), a ratio of ratios, so each draw's is computed whole; undefined in
    a draw without the label or the feature (m t = 0: the counts are never negative).
    Written over `a` and `m`, fresh sums."""
    lift = np.multiply(a, n, out=a)
    bottom = np.multiply(m, t, out=m)
    np.divide(lift, bottom, out=lift)
    lift[bottom == 0] = np.nan
    return lift


def _item_statistics(
    incidence: Incidence,
    cluster: IntArray,
    pick: tuple[IntArray, IntArray],
    tables: Tables,
    how: tuple[bool, FloatArray, Settings],
) -> ItemStatistics:
    """The items behind each pair's co-occurrences and its OR without the commonest."""
    n_pairs = pick[0].size
    item = incidence.item
    n_items = np.full(n_pairs, -1, dtype=np.int64)
    top = np.full(n_pairs, -1, dtype=np.int64)
    top_both = np.full(n_pairs, -1, dtype=np.int64)
    if item is None or not (item >= 0).any() or not n_pairs:
        nothing = np.full(n_pairs, np.nan)
        return ItemStatistics(n_items, top, top_both, nothing, nothing, nothing)
    labels = sparse.csc_array(incidence.labels, dtype=np.float64)
    features = sparse.csr_array(incidence.features, dtype=np.float64)
    n_codes = int(item.max()) + 1
    for label in np.unique(pick[0]):
        units = labels[:, [label]].nonzero()[0]
        units = units[item[units] >= 0]
        by_item = sparse.csr_array(
            (np.ones(units.size), (item[units], np.arange(units.size))),
            shape=(n_codes, units.size),
        )
        counts = (by_item @ features[units]).toarray()
        pairs = np.flatnonzero(pick[0] == label)
        column = counts[:, pick[1][pairs]]
        n_items[pairs] = np.count_nonzero(column, axis=0)
        top[pairs] = np.argmax(column, axis=0)
        top_both[pairs] = column.max(axis=0, initial=0).astype(np.int64)
    without = _without_items(incidence, cluster, pick, top, tables)
    exact, weights, settings = how
    odds, low, high, _ = estimates(without, exact, weights, settings.confidence)
    return ItemStatistics(n_items, top, top_both, odds, low, high)


def _without_items(
    incidence: Incidence,
    cluster: IntArray,
    pick: tuple[IntArray, IntArray],
    top: IntArray,
    tables: Tables,
) -> Tables:
    """Each pair's per-cluster tables once every unit of its top item is left out."""
    assert incidence.item is not None
    n_clusters = tables[0].shape[0]
    removed = [np.zeros_like(x) for x in tables]
    labels = sparse.csr_array(incidence.labels, dtype=np.float64)
    features = sparse.csr_array(incidence.features, dtype=np.float64)
    for code in np.unique(top[top >= 0]):
        units = np.flatnonzero(incidence.item == code)
        where = cluster[units]
        coded = incidence.coverage[incidence.source[units]]
        has_label = labels[units].toarray()
        has_feature = features[units].toarray()
        for j in np.flatnonzero(top == code):
            label, feature = pick[0][j], pick[1][j]
            counted = coded[:, feature].astype(np.float64)
            with_label = has_label[:, label] * counted
            for x, values in zip(
                removed,
                (
                    with_label * has_feature[:, feature],
                    with_label,
                    has_feature[:, feature],
                    counted,
                ),
                strict=True,
            ):
                x[:, j] = np.bincount(where, weights=values, minlength=n_clusters)
    return tuple(x - y for x, y in zip(tables, removed, strict=True))  # type: ignore[return-value]


def _cluster_counts(
    incidence: Incidence, cluster: IntArray, n_clusters: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per cluster: units coding each feature (C x F), units with it (C x F), label units
    coding it (C x L x F) and label units with it (C x L x F)."""
    labels = sparse.csr_array(incidence.labels, dtype=np.float64)
    features = sparse.csr_array(incidence.features, dtype=np.float64)
    coverage = np.asarray(incidence.coverage, dtype=np.float64)
    n_units_total, n_labels = labels.shape
    n_features = features.shape[1]
    n_sources = coverage.shape[0]
    source = np.asarray(incidence.source, dtype=np.int64)
    _check_coverage(features, source, coverage)

    cluster_source = np.bincount(
        cluster * n_sources + source, minlength=n_clusters * n_sources
    ).reshape(n_clusters, n_sources)
    n_units = cluster_source @ coverage
    by_cluster = sparse.csr_array(
        (np.ones(n_units_total), (cluster, np.arange(n_units_total))),
        shape=(n_clusters, n_units_total),
    )
    n_feature = (by_cluster @ features).toarray()

    unit, label = labels.nonzero()
    rows = cluster[unit] * n_labels + label
    label_source = np.bincount(
        rows * n_sources + source[unit], minlength=n_clusters * n_labels * n_sources
    ).reshape(n_clusters * n_labels, n_sources)
    n_label = (label_source @ coverage).reshape(n_clusters, n_labels, n_features)
    by_cluster_label = sparse.csr_array(
        (np.ones(unit.size), (rows, unit)), shape=(n_clusters * n_labels, n_units_total)
    )
    n_both = (by_cluster_label @ features).toarray().reshape(n_clusters, n_labels, n_features)
    return n_units, n_feature, n_label, n_both


def _check_coverage(features: sparse.csr_array, source: IntArray, coverage: FloatArray) -> None:
    unit, feature = features.nonzero()
    uncoded = coverage[source[unit], feature] == 0
    if uncoded.any():
        raise ValueError(
            f"{int(uncoded.sum())} unit x feature cells are active where the source does "
            f"not code the feature (first: feature {int(feature[uncoded][0])})"
        )


def cluster_weights(n_clusters: int, resamples: int, rng: np.random.Generator) -> FloatArray:
    """Resamples x clusters: how often each cluster is drawn in each bootstrap replicate
    (`integers(0, C, size=(B, C))`, row r the clusters of replicate r). Every cluster
    bootstrap in SignAffect (pair statistics, timing medians) draws through this."""
    picks = rng.integers(0, n_clusters, size=(resamples, n_clusters))
    cells = (np.arange(resamples)[:, None] * n_clusters + picks).ravel()
    counts = np.bincount(cells, minlength=resamples * n_clusters)
    return counts.reshape(resamples, n_clusters).astype(np.float64)


@dataclass(frozen=True)
class ClusteredShares:
    """The share of the units in each class, with the cluster-bootstrap CI of each share
    (NaN bounds with fewer than two clusters: one story says nothing about the next)."""

    classes: tuple[str, ...]
    shares: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray


def clustered_shares(
    labels: NDArray[np.object_] | NDArray[np.str_],
    cluster: NDArray[np.object_] | IntArray,
    classes: Sequence[str],
    settings: Settings,
) -> ClusteredShares:
    """Each class's share of the units (`labels`, one per unit) and its cluster-bootstrap CI
    (`settings`' resamples, seed and confidence): replicate r counts each cluster as often
    as it was drawn, its share the drawn units of the class over all drawn units."""
    clusters, code = np.unique(cluster, return_inverse=True)
    counts = np.stack([np.bincount(code, labels == c, clusters.size) for c in classes])
    sizes = np.bincount(code, minlength=clusters.size).astype(np.float64)
    shares = counts.sum(axis=1) / sizes.sum()
    if clusters.size < 2:
        missing = np.full(len(classes), np.nan)
        return ClusteredShares(tuple(classes), shares, missing, missing)
    boot_rng, _ = generators(settings.seed)
    weights = cluster_weights(clusters.size, settings.resamples, boot_rng)
    replicate = (weights @ counts.T) / (weights @ sizes)[:, None]
    bounds = nan_quantiles(replicate, interval_quantiles(settings.confidence))
    return ClusteredShares(tuple(classes), shares, bounds[0], bounds[1])


@dataclass(frozen=True)
class ClusteredMedian:
    """A median with its quartiles and the cluster-bootstrap CI of the median (NaN bounds
    with fewer than two clusters: one story says nothing about the next)."""

    median: float
    q1: float
    q3: float
    ci_low: float
    ci_high: float


def clustered_median(
    values: FloatArray, cluster: NDArray[np.object_] | IntArray, settings: Settings
) -> ClusteredMedian:
    """Median, first and third quartile, and the cluster-bootstrap CI of the median
    (`settings`' resamples, seed and confidence; its support rule does not apply).

    Replicate r draws clusters with multiplicities `w[r]`; its median is the median of the
    values of the drawn clusters, each repeated as often as its cluster was drawn (exactly
    `np.median` of that concatenation), found from the weighted count of values at or below
    each distinct value (`weighted_counts_at_or_below`), every draw at once.
    """
    values = np.asarray(values, dtype=np.float64)
    median, q1, q3 = (float(x) for x in np.quantile(values, [0.5, 0.25, 0.75]))
    clusters, code = np.unique(cluster, return_inverse=True)
    if clusters.size < 2:
        return ClusteredMedian(median, q1, q3, float("nan"), float("nan"))
    boot_rng, _ = generators(settings.seed)
    weights = cluster_weights(clusters.size, settings.resamples, boot_rng)
    distinct, counts = weighted_counts_at_or_below(values, code, weights)
    total = counts[:, -1]

    def at(rank: FloatArray) -> FloatArray:
        return distinct[(counts <= rank[:, None]).sum(axis=1)]

    medians = (at(np.floor((total - 1) / 2)) + at(np.floor(total / 2))) / 2
    ci = nan_quantiles(medians[:, None], interval_quantiles(settings.confidence))[:, 0]
    return ClusteredMedian(median, q1, q3, float(ci[0]), float(ci[1]))


def weighted_counts_at_or_below(
    values: FloatArray, code: IntArray, weights: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The distinct `values` ascending (each NaN its own, last), and per draw (a row of
    `weights`, resamples x clusters) how many drawn values lie at or below each: row r is
    `np.cumsum(weights[r, code[order]])` (values sorted) taken at the last of each run of
    equal values. Leads come in whole frames, so there are far fewer distinct values than
    values, and one product gives every draw's counts exactly (integers in float64)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    last = np.append(ordered[1:] != ordered[:-1], True)
    group = np.cumsum(np.append(False, last[:-1]))
    n_clusters, n_distinct = weights.shape[1], int(last.sum())
    per_cluster = np.bincount(
        code[order] * n_distinct + group, minlength=n_clusters * n_distinct
    ).reshape(n_clusters, n_distinct)
    return ordered[last], weights @ np.cumsum(per_cluster, axis=1).astype(np.float64)


def partial_cluster_weights(
    n_clusters: int, drawn: IntArray, resamples: int, seed: int
) -> FloatArray:
    """Resamples x clusters: the cluster bootstrap (`cluster_weights`) over the clusters
    `drawn` only, the others weighing 0 (a CV's stories never held out), from a generator
    seeded with `seed` itself (the training verdict's stream)."""
    weights = np.zeros((resamples, n_clusters))
    weights[:, drawn] = cluster_weights(len(drawn), resamples, np.random.default_rng(seed))
    return weights


def percentile_bounds(draws: FloatArray, confidence: float) -> tuple[float, float]:
    """The central percentile interval of bootstrap `draws` (numpy's linear percentiles)."""
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def interval_quantiles(confidence: float) -> FloatArray:
    """The two quantiles of a central percentile interval."""
    alpha = (1.0 - confidence) / 2.0
    return np.array([alpha, 1.0 - alpha])


def nan_quantiles(values: FloatArray, quantiles: FloatArray) -> FloatArray:
    """Column-wise quantiles ignoring NaN, numpy's default (linear) method: what
    `np.nanquantile(values, quantiles, axis=0)` gives, without its per-column Python loop."""
    # Selecting within contiguous rows of the transpose is faster than down the columns.
    return row_quantiles(np.array(values.T, order="C"), quantiles)


def row_quantiles(rows: FloatArray, quantiles: FloatArray) -> FloatArray:
    """`nan_quantiles` of each row of `rows` (quantiles x rows), reordering `rows` in place.
    Only the order statistics the linear interpolation reads are found (the same values a
    sort gives), for the rows of each count of non-NaN values together (NaN orders last)."""
    valid = np.sum(~np.isnan(rows), axis=1)
    last = np.maximum(valid - 1, 0)
    position = last[None, :] * quantiles[:, None]
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, last[None, :])
    below = np.empty(low.shape, dtype=rows.dtype)
    above = np.empty(low.shape, dtype=rows.dtype)
    for count in np.unique(valid):
        members = np.flatnonzero(valid == count)
        ranks = np.union1d(low[:, members[0]], high[:, members[0]])
        found = _order_statistics(rows if members.size == valid.size else rows[members], ranks)
        below[:, members] = found[np.searchsorted(ranks, low[:, members[0]])]
        above[:, members] = found[np.searchsorted(ranks, high[:, members[0]])]
    fraction = position - low
    # Equal neighbours (infinite ratios included) need no interpolation.
    with np.errstate(invalid="ignore"):
        result = np.where(
            (fraction == 0) | (above == below), below, below + (above - below) * fraction
        )
    return np.where(valid[None, :] > 0, result, np.nan)


def _order_statistics(rows: FloatArray, ranks: IntArray) -> FloatArray:
    """The values of each row at the ascending `ranks` of its sorted order (ranks x rows),
    reordering `rows` in place: one single-rank partition per rank, or per two adjacent
    ranks (the lower is then the largest of what the partition put before the upper),
    each over the part of the row not yet placed; numpy selects one rank far faster than
    several at once."""
    found = np.empty((ranks.size, rows.shape[0]), dtype=rows.dtype)
    start = 0
    i = 0
    while i < ranks.size:
        rank = int(ranks[i])
        pair = i + 1 < ranks.size and ranks[i + 1] == rank + 1
        top = rank + 1 if pair else rank
        rows[:, start:].partition(top - start, axis=1)
        if pair:
            found[i] = rows[:, start:top].max(axis=1)
        found[i + pair] = rows[:, top]
        start = top + 1
        i += 1 + pair
    return found
