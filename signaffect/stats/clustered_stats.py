"""Label x feature association statistics whose intervals and p-values respect clustering.

Frames are near copies of their neighbours and sign tokens of one story share a signer, a
topic and a camera, so counting them as independent draws overstates the evidence. For
every (label, feature) pair at one grain (frames, sign tokens or utterances) this module
gives:

- the 2x2 counts over the units whose source file codes the feature's field at all
  (coverage-aware denominators), P(feature), P(feature | label) and lift;
- the odds ratio with the Haldane-Anscombe correction: 0.5 is added to each of the four
  cells of every table (point estimate and every resample alike), so a zero cell gives a
  finite, shrunken OR (Haldane 1956; Agresti, *Categorical Data Analysis*, 3rd ed., §3.1);
- 95% percentile intervals for the OR and lift from a bootstrap over clusters: whole
  stories (the cluster unit is the caller's) are drawn with replacement, which keeps every
  dependence inside a story (Field & Welsh 2007, "Bootstrapping clustered data", JRSS B
  69:369-390; Davison & Hinkley 1997, §3.8);
- a two-sided Monte Carlo permutation p-value: the labels of whole exchangeable blocks
  (sign tokens, or utterances) are shuffled among the blocks of the same cluster, so the
  null keeps each story's base rates and every frame of a token together (restricted
  permutations within exchangeability blocks: Good 2005, *Permutation, Parametric and
  Bootstrap Tests of Hypotheses*, §3.6; Winkler et al. 2015, NeuroImage 123:253-268); the
  statistic is |log OR| (corrected OR), p = (1 + #{permuted >= observed}) / (B + 1), the
  +1 of Phipson & Smyth (2010), so p is never 0 and is at least 1 / (B + 1): with B = 1000,
  BH can call a pair significant only if enough pairs reach that floor;
- Benjamini-Hochberg q-values over the pairs tested (scipy.stats.false_discovery_control).

Random draws are reproducible from one seed, in a documented order the tests replay:
`np.random.SeedSequence(seed).spawn(2)` gives the bootstrap and the permutation generator.
The bootstrap draws `integers(0, C, size=(B, C))` (row r: the clusters of replicate r).
The permutation numbers the blocks by (cluster, block id) and, for each of the B
permutations in turn, draws `random(n_blocks)`; `argsort(cluster + draw)` is a permutation
`order` within clusters, and the labels of block i move to block `order[i]`.

Pure numpy/scipy: the dbt model feeds it arrays and stores what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.stats import false_discovery_control

#: Added to every cell of every 2x2 table before an odds ratio is taken.
HALDANE = 0.5
#: Pairs x resamples held in memory at once by the bootstrap.
_CHUNK_CELLS = 4_000_000
#: Permutations computed together (one stacked sparse product each).
_PERMUTATION_BATCH = 50

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Incidence:
    """The units of one grain and what may be resampled or permuted.

    `labels` and `features` are units x labels / units x features 0/1 matrices. A unit
    counts for a feature only where its source file codes that feature's field:
    `coverage[source[u], f]`; a feature active where its field is not coded is an error.
    `cluster[u]` is the unit that is bootstrapped and inside which labels are permuted.
    `block[u]` is the exchangeable block (sign token, utterance) whose labels move
    together, lying in one cluster and one source, with the same labels on all its units;
    -1 marks a unit that never carries a label and stays fixed (a frame between signs).
    """

    labels: sparse.csr_array
    features: sparse.csr_array
    source: IntArray
    coverage: NDArray[np.bool_]
    cluster: IntArray
    block: IntArray


@dataclass(frozen=True)
class Settings:
    """How many resamples, the seed, the CI level, and when a pair is tested: at least
    `min_support` units with both, in at least `min_clusters` clusters. A pair seen together
    in one or two stories has an interval that describes those stories, not the corpus."""

    resamples: int = 1000
    seed: int = 42
    min_support: int = 5
    min_clusters: int = 3
    confidence: float = 0.95


@dataclass(frozen=True)
class PairStatistics:
    """One entry per tested pair (label_index, feature_index), in (label, feature) order."""

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


def odds_ratio(
    a: FloatArray, n_label: FloatArray, n_feature: FloatArray, n: FloatArray
) -> FloatArray:
    """Haldane-corrected OR of the 2x2 table with cells a, n_label - a, n_feature - a and
    n - n_label - n_feature + a."""
    b = n_label - a
    c = n_feature - a
    d = n - n_label - n_feature + a
    return ((a + HALDANE) * (d + HALDANE)) / ((b + HALDANE) * (c + HALDANE))


def generators(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The bootstrap and the permutation generator of `seed`."""
    boot, perm = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(boot), np.random.default_rng(perm)


def associate(incidence: Incidence, settings: Settings) -> PairStatistics:
    """Counts, OR and lift with cluster-bootstrap CIs, permutation p and BH q, per pair."""
    if settings.resamples < 1:
        raise ValueError("resamples must be at least 1")
    cluster = np.unique(incidence.cluster, return_inverse=True)[1].astype(np.int64)
    n_clusters = int(cluster.max()) + 1 if cluster.size else 0
    per_cluster = _cluster_counts(incidence, cluster, n_clusters)
    totals = [array.sum(axis=0) for array in per_cluster]
    n_units, n_feature, n_label, n_both = totals
    clusters_both = np.count_nonzero(per_cluster[3], axis=0)
    label_index, feature_index = np.nonzero(
        (n_both >= max(settings.min_support, 1)) & (clusters_both >= settings.min_clusters)
    )
    pick = (label_index, feature_index)
    n_feature_p = n_feature[feature_index]
    n_units_p = n_units[feature_index]
    n_label_p = n_label[pick]
    n_both_p = n_both[pick]
    observed = odds_ratio(n_both_p, n_label_p, n_feature_p, n_units_p)
    boot_rng, perm_rng = generators(settings.seed)
    or_ci, lift_ci = _bootstrap(per_cluster, pick, settings, boot_rng)
    p_value = _permutation_p(
        incidence,
        cluster,
        pick,
        (n_units_p, n_feature_p, observed),
        settings.resamples,
        perm_rng,
    )
    q_value = false_discovery_control(p_value) if p_value.size else p_value
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
        lift_ci_low=lift_ci[0],
        lift_ci_high=lift_ci[1],
        odds_ratio=observed,
        or_ci_low=or_ci[0],
        or_ci_high=or_ci[1],
        p_value=p_value,
        q_value=q_value,
        n_clusters_both=clusters_both[pick].astype(np.int64),
        n_clusters=n_clusters,
        resamples=settings.resamples,
    )


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
    weights = np.zeros((resamples, n_clusters))
    np.add.at(weights, (np.arange(resamples)[:, None], picks), 1.0)
    return weights


def interval_quantiles(confidence: float) -> FloatArray:
    """The two quantiles of a central percentile interval."""
    alpha = (1.0 - confidence) / 2.0
    return np.array([alpha, 1.0 - alpha])


def _bootstrap(
    per_cluster: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    pick: tuple[IntArray, IntArray],
    settings: Settings,
    rng: np.random.Generator,
) -> tuple[tuple[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]:
    """Percentile CIs of the OR and of lift over cluster resamples.

    Each replicate's counts are the multiplicity-weighted sum of per-cluster counts, so all
    pairs share the same B draws. A replicate in which the pair's label or feature is absent
    has no OR or lift and is left out of that pair's interval.
    """
    n_units, n_feature, n_label, n_both = per_cluster
    label_index, feature_index = pick
    n_clusters = n_units.shape[0]
    weights = cluster_weights(n_clusters, settings.resamples, rng)
    quantiles = interval_quantiles(settings.confidence)
    n_pairs = label_index.size
    or_bounds = np.full((2, n_pairs), np.nan)
    lift_bounds = np.full((2, n_pairs), np.nan)
    chunk = max(1, _CHUNK_CELLS // settings.resamples)
    for start in range(0, n_pairs, chunk):
        part = slice(start, start + chunk)
        labels, feats = label_index[part], feature_index[part]
        n = weights @ n_units[:, feats]
        nf = weights @ n_feature[:, feats]
        nl = weights @ n_label[:, labels, feats]
        a = weights @ n_both[:, labels, feats]
        defined = (nl > 0) & (nf > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(defined, odds_ratio(a, nl, nf, n), np.nan)
            lift = np.where(defined, (a * n) / (nl * nf), np.nan)
        or_bounds[:, part] = nan_quantiles(ratio, quantiles)
        lift_bounds[:, part] = nan_quantiles(lift, quantiles)
    return (or_bounds[0], or_bounds[1]), (lift_bounds[0], lift_bounds[1])


def nan_quantiles(values: FloatArray, quantiles: FloatArray) -> FloatArray:
    """Column-wise quantiles ignoring NaN, numpy's default (linear) method: what
    `np.nanquantile(values, quantiles, axis=0)` gives, without its per-column Python loop."""
    ordered = np.sort(values, axis=0)
    valid = np.sum(~np.isnan(values), axis=0)
    position = np.maximum(valid - 1, 0)[None, :] * quantiles[:, None]
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, np.maximum(valid - 1, 0)[None, :])
    below = np.take_along_axis(ordered, low, axis=0)
    above = np.take_along_axis(ordered, high, axis=0)
    result = below + (above - below) * (position - low)
    return np.where(valid[None, :] > 0, result, np.nan)


@dataclass(frozen=True)
class _Blocks:
    """Exchangeable blocks in (cluster, block id) order, and their (block, label)
    incidences sorted by label."""

    cluster: IntArray
    size: FloatArray
    source: IntArray
    features: sparse.csr_array
    label_block: IntArray
    label: IntArray


def _blocks(incidence: Incidence, cluster: IntArray) -> _Blocks:
    """Aggregate units into their blocks, checking each block's cluster, source and labels."""
    labels = sparse.csr_array(incidence.labels, dtype=np.float64)
    block = np.asarray(incidence.block, dtype=np.int64)
    movable = block >= 0
    fixed_labelled = labels[np.flatnonzero(~movable)].nnz
    if fixed_labelled:
        raise ValueError(f"{fixed_labelled} labels sit on units outside any block")
    units = np.flatnonzero(movable)
    combined = cluster[units] * (int(block[units].max(initial=0)) + 1) + block[units]
    ids, position = np.unique(combined, return_inverse=True)
    n_blocks = ids.size
    if np.unique(block[units]).size != n_blocks:
        raise ValueError("a block spans more than one cluster")
    member = sparse.csr_array(
        (np.ones(units.size), (position, units)), shape=(n_blocks, labels.shape[0])
    )
    size = np.bincount(position, minlength=n_blocks).astype(np.float64)
    source = np.full(n_blocks, -1, dtype=np.int64)
    source[position] = incidence.source[units]
    if np.any(source[position] != incidence.source[units]):
        raise ValueError("a block spans more than one source file")
    label_counts = (member @ labels).tocoo()
    if np.any(label_counts.data != size[label_counts.row]):
        raise ValueError("a block's units do not all carry the same labels")
    order = np.lexsort((label_counts.row, label_counts.col))
    features = sparse.csr_array(member @ sparse.csr_array(incidence.features, dtype=np.float64))
    block_cluster = np.zeros(n_blocks, dtype=np.int64)
    block_cluster[position] = cluster[units]
    return _Blocks(
        cluster=block_cluster,
        size=size,
        source=source,
        features=features,
        label_block=label_counts.row[order].astype(np.int64),
        label=label_counts.col[order].astype(np.int64),
    )


def _permutation_p(
    incidence: Incidence,
    cluster: IntArray,
    pick: tuple[IntArray, IntArray],
    fixed: tuple[FloatArray, FloatArray, FloatArray],
    resamples: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Two-sided permutation p of |log OR|, labels moved between whole blocks
    of the same cluster (see the module docstring for the draw order). `fixed` holds what
    a permutation leaves unchanged: each pair's n_units and n_feature, and its observed
    statistic."""
    label_index, feature_index = pick
    n_units, n_feature, observed = fixed
    if label_index.size == 0:
        return np.zeros(0)
    blocks = _blocks(incidence, cluster)
    # Only the tested features are counted.
    features_used, feature_at = np.unique(feature_index, return_inverse=True)
    block_features = sparse.csr_array(blocks.features[:, features_used])
    coverage = np.asarray(incidence.coverage, dtype=np.float64)[:, features_used]
    n_labels = incidence.labels.shape[1]
    n_sources = coverage.shape[0]
    n_blocks = blocks.cluster.size
    per_label = np.bincount(blocks.label, minlength=n_labels)
    extreme = np.ones(label_index.size)
    observed_size = np.abs(np.log(observed)) * (1 - 1e-9)
    for start in range(0, resamples, _PERMUTATION_BATCH):
        batch = min(_PERMUTATION_BATCH, resamples - start)
        keys = blocks.cluster[None, :] + rng.random((batch, n_blocks))
        target = np.argsort(keys, axis=1)[:, blocks.label_block]
        rows = (np.arange(batch)[:, None] * n_labels + blocks.label[None, :]).ravel()
        moved = target.ravel()
        # Rows are already in order and a row never repeats a block (a permutation is
        # one-to-one), so the CSR arrays are written directly.
        indptr = np.concatenate([[0], np.cumsum(np.tile(per_label, batch))])
        both = sparse.csr_array(
            (np.ones(moved.size), moved, indptr), shape=(batch * n_labels, n_blocks)
        )
        n_both = (both @ block_features).toarray().reshape(batch, n_labels, -1)
        label_source = np.bincount(
            rows * n_sources + blocks.source[moved],
            weights=blocks.size[moved],
            minlength=batch * n_labels * n_sources,
        ).reshape(batch, n_labels, n_sources)
        n_label = (label_source @ coverage)[:, label_index, feature_at]
        statistic = odds_ratio(n_both[:, label_index, feature_at], n_label, n_feature, n_units)
        extreme += (np.abs(np.log(statistic)) >= observed_size).sum(axis=0)
    return extreme / (resamples + 1)
