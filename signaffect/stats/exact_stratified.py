"""Story-stratified odds ratios and their exact conditional test and interval.

A label's tokens are compared with the other tokens of the same story, so the estimate, the
test and the interval are all conditional on the story (the stratum):

- the estimate is the Mantel-Haenszel odds ratio, sum_k a_k d_k / n_k over
  sum_k b_k c_k / n_k (Mantel & Haenszel 1959; Agresti, *Categorical Data Analysis*, 3rd
  ed., section 6.3.5), which needs no correction for zero cells;
- the test statistic is the co-occurrence count T = sum_k a_k. Under within-story
  exchangeability of the units (the labels fall on a random set of the story's units, the
  null of a within-story permutation test) each a_k is hypergeometric given the story's
  margins, so the null distribution of T is the convolution of the strata's hypergeometric
  distributions: computed exactly here, not sampled, so p has no 1 / (B + 1) floor and no
  seed. The p-value is the two-sided mid-p, twice the smaller of P(T < t) + P(T = t) / 2 and
  P(T > t) + P(T = t) / 2, capped at 1 (Lancaster 1961; Agresti 2013, section 1.1.4);
- the interval inverts that test: under a common odds ratio psi, T's conditional
  distribution is the null one tilted by psi^T (a product of Fisher's noncentral
  hypergeometric distributions), and the 95% bounds are the psi whose mid-p tails equal
  2.5% (the exact conditional interval of Mehta, Patel & Gray 1985, with the mid-p of
  Agresti & Min 2001). The interval therefore excludes 1 exactly when the mid-p is below
  0.05: the test and the interval are one criterion.

Pure numpy/scipy; every function takes per-stratum counts shaped strata x pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Bisection range of the log odds ratio, and its steps (80 / 2^36 < 1.2e-9 in log OR).
_LOG_PSI_LIMIT = 40.0
_BISECTIONS = 36
#: Pairs solved together (rows of one padded array).
_CHUNK_PAIRS = 256


def mantel_haenszel(a: FloatArray, m: FloatArray, t: FloatArray, n: FloatArray) -> FloatArray:
    """MH odds ratio per pair from strata x pairs counts: a with both, m with the label, t
    with the feature, n units. Strata with n = 0 add nothing; inf when no stratum has b c > 0
    but one has a d > 0; nan when neither."""
    numerator, denominator = mh_terms(a, m, t, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return numerator.sum(axis=0) / denominator.sum(axis=0)


def mh_terms(
    a: FloatArray, m: FloatArray, t: FloatArray, n: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Each stratum's a d / n and b c / n (strata x pairs), zero where n = 0: what a story
    bootstrap of the MH odds ratio sums with the story weights."""
    b = m - a
    c = t - a
    d = n - m - t + a
    safe = np.where(n > 0, n, 1.0)
    return np.where(n > 0, a * d / safe, 0.0), np.where(n > 0, b * c / safe, 0.0)


def null_distributions(m: FloatArray, t: FloatArray, n: FloatArray) -> list[tuple[int, FloatArray]]:
    """The exact null distribution of T = sum_k a_k for each pair (strata x pairs arrays):
    the lowest value T can take and P(T = lowest + i) for every i. Each stratum's
    hypergeometric probabilities are computed for every pair at once; the strata are then
    convolved in their order, pair by pair (a convolution is exact arithmetic no batch
    reproduces bit for bit)."""
    low = np.maximum(0.0, m + t - n)
    high = np.minimum(m, t)
    pair, stratum = np.nonzero((high > low).T)  # by pair, then stratum
    mk, tk, nk, lk = (x[stratum, pair] for x in (m, t, n, low))
    sizes = (high[stratum, pair] - lk).astype(np.int64) + 1
    ends = np.cumsum(sizes)
    entry = np.repeat(np.arange(sizes.size), sizes)
    values = lk[entry] + (np.arange(entry.size) - (ends - sizes)[entry])
    log_gamma = gammaln(np.arange(int(n.max(initial=0.0)) + 2, dtype=np.float64))

    def log_choose(whole: FloatArray, part: FloatArray) -> FloatArray:
        """`_log_choose` by table (gammaln of the same integers: the same bits)."""
        return (
            log_gamma[(whole + 1).astype(np.int64)]
            - log_gamma[(part + 1).astype(np.int64)]
            - log_gamma[(whole - part + 1).astype(np.int64)]
        )

    probability = np.exp(
        log_choose(tk[entry], values)
        + log_choose((nk - tk)[entry], mk[entry] - values)
        - log_choose(nk, mk)[entry]
    )
    first = np.searchsorted(pair, np.arange(m.shape[1] + 1))
    distributions = []
    for j, offset in enumerate(low.sum(axis=0)):
        if first[j] == first[j + 1]:
            distributions.append((int(offset), np.ones(1)))
            continue
        # Convolving np.ones(1) with the first stratum returns it unchanged.
        pmf = probability[ends[first[j]] - sizes[first[j]] : ends[first[j]]]
        for e in range(first[j] + 1, first[j + 1]):
            pmf = np.convolve(pmf, probability[ends[e] - sizes[e] : ends[e]])
        distributions.append((int(offset), pmf / pmf.sum()))
    return distributions


def _log_choose(n: FloatArray, k: FloatArray) -> FloatArray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def exact_test(
    a: FloatArray, m: FloatArray, t: FloatArray, n: FloatArray, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Two-sided mid-p and the exact conditional (mid-p) interval of the common odds ratio,
    per pair, from strata x pairs counts. Pairs are solved together in chunks of similar
    support size, so no pair pays for the widest one's padding."""
    n_pairs = a.shape[1]
    distributions = null_distributions(m, t, n)
    widths = np.array([pmf.size for _, pmf in distributions], dtype=np.int64)
    observed = a.sum(axis=0)
    p_value, low, high = (np.full(n_pairs, np.nan) for _ in range(3))
    alpha = (1.0 - confidence) / 2.0
    order = np.argsort(widths, kind="stable")
    for start in range(0, n_pairs, _CHUNK_PAIRS):
        chunk = order[start : start + _CHUNK_PAIRS]
        pairs = _padded([distributions[j] for j in chunk], observed[chunk])
        tilted = _Tilted(pairs, np.zeros(chunk.size))
        lower_tail, upper_tail = tilted.tail(pairs.below), tilted.tail(pairs.above)
        p_value[chunk] = np.minimum(1.0, 2.0 * np.minimum(lower_tail, upper_tail))
        low[chunk] = np.exp(_solve(pairs, alpha, upper=True))
        high[chunk] = np.exp(_solve(pairs, alpha, upper=False))
    return p_value, low, high


@dataclass(frozen=True)
class _Padded:
    """Pairs solved together, one row each: log null probabilities (-inf as padding), each
    value's distance from the observed count, and where that distance is below, at and
    above zero, and where the row is not padding (computed once, read by every step)."""

    log_pmf: FloatArray
    shift: FloatArray
    below: BoolArray
    at: BoolArray
    above: BoolArray
    support: BoolArray


def _padded(distributions: list[tuple[int, FloatArray]], observed: FloatArray) -> _Padded:
    width = max(pmf.size for _, pmf in distributions)
    log_pmf = np.full((len(distributions), width), -np.inf)
    shift = np.zeros((len(distributions), width))
    for row, (offset, pmf) in enumerate(distributions):
        with np.errstate(divide="ignore"):
            log_pmf[row, : pmf.size] = np.log(pmf)
        shift[row] = offset + np.arange(width) - observed[row]
    support = np.arange(width)[None, :] < np.array([pmf.size for _, pmf in distributions])[:, None]
    return _Padded(log_pmf, shift, shift < 0, shift == 0, shift > 0, support)


class _Tilted:
    """The null distributions tilted by odds ratios exp(log_psi), one per row: the mid-p
    tails P(T < t) + P(T = t) / 2 and P(T > t) + P(T = t) / 2 of each row."""

    def __init__(self, pairs: _Padded, log_psi: FloatArray) -> None:
        weights = pairs.log_pmf + log_psi[:, None] * pairs.shift
        # Padding weighs exp(-inf) = 0: only the support is exponentiated.
        self.probability = np.exp(
            weights - weights.max(axis=1, keepdims=True),
            out=np.zeros_like(weights),
            where=pairs.support,
        )
        self.total = self.probability.sum(axis=1)
        self.half = 0.5 * np.einsum("ij,ij->i", self.probability, pairs.at)

    def tail(self, side: BoolArray) -> FloatArray:
        """The mid-p tail on `side` (the pairs' `below` or `above`)."""
        return (np.einsum("ij,ij->i", self.probability, side) + self.half) / self.total


def _solve(pairs: _Padded, alpha: float, upper: bool) -> FloatArray:
    """The log odds ratio at which the upper (lower bound) or lower (upper bound) mid-p tail
    equals alpha, by bisection for every pair at once; -inf / +inf when no odds ratio makes
    the tail that small (the observed count is the least / greatest T can take)."""
    n_pairs = pairs.log_pmf.shape[0]

    def tail(log_psi: FloatArray) -> FloatArray:
        tilted = _Tilted(pairs, log_psi)
        # Both are made increasing in log psi, so one bisection serves both bounds.
        return tilted.tail(pairs.above) if upper else 1.0 - tilted.tail(pairs.below)

    target = alpha if upper else 1.0 - alpha
    low = np.full(n_pairs, -_LOG_PSI_LIMIT)
    high = np.full(n_pairs, _LOG_PSI_LIMIT)
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2.0
        rising = tail(middle) < target
        low = np.where(rising, middle, low)
        high = np.where(rising, high, middle)
    bound = (low + high) / 2.0
    bound = np.where(tail(np.full(n_pairs, -_LOG_PSI_LIMIT)) >= target, -np.inf, bound)
    return np.where(tail(np.full(n_pairs, _LOG_PSI_LIMIT)) <= target, np.inf, bound)
