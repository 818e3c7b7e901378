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
from scipy.special import gammaln, ndtri

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: Bisection range of the log odds ratio, and its steps (80 / 2^36 < 1.2e-9 in log OR).
_LOG_PSI_LIMIT = 40.0
_BISECTIONS = 36
#: Pairs solved together (rows of one padded array).
_CHUNK_PAIRS = 256
#: How far from the target a computed tail must be to say on which side of the root it
#: lies: rounding moves a tail (sums of up to thousands of exponentials of weights below
#: 1e5 in size: ~2e-11 relative error) by ~1e-12; the target is 0.025 or 0.975.
_MARGIN = 1e-9
#: Newton steps before the bisection, and the distance either side of where they end at
#: which the tail is evaluated once more (a few bisection steps, 80 / 2^36 each).
_NEWTON_STEPS = 4
_PROBE = 8e-9


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

    def rows(self, index: IntArray) -> _Padded:
        """The pairs `index` alone (each row's numbers are computed row by row)."""
        if index.size == self.log_pmf.shape[0]:
            return self
        return _Padded(
            self.log_pmf[index],
            self.shift[index],
            self.below[index],
            self.at[index],
            self.above[index],
            self.support[index],
        )


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
    the tail that small (the observed count is the least / greatest T can take).

    The bisection's result is the path of its comparisons `tail(middle) < target`, and the
    tail rises with log psi, so a comparison is known without evaluating it wherever a
    point on the same side was found clear of the target by more than rounding could move a
    tail (`_MARGIN`): a few Newton steps (`_Bracket`) find such points a few bisection steps
    either side of the root, and the bisection evaluates only the pairs whose middle lies
    between them. The same bits as evaluating every step (tests/test_statistics_paths.py
    holds it to that), with about a third of the evaluations.
    """
    n_pairs = pairs.log_pmf.shape[0]
    target = alpha if upper else 1.0 - alpha
    bracket = _Bracket(pairs, upper, target)
    at_low = bracket.value(np.full(n_pairs, -_LOG_PSI_LIMIT))
    at_high = bracket.value(np.full(n_pairs, _LOG_PSI_LIMIT))
    solved = (at_low < target) & (at_high > target)
    bracket.narrow(solved)
    low = np.full(n_pairs, -_LOG_PSI_LIMIT)
    high = np.full(n_pairs, _LOG_PSI_LIMIT)
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2.0
        rising = middle <= bracket.below
        ask = np.flatnonzero(solved & ~rising & (middle < bracket.above))
        if ask.size:
            rising[ask] = bracket.value(middle[ask], ask) < target
        low = np.where(rising, middle, low)
        high = np.where(rising, high, middle)
    bound = (low + high) / 2.0
    bound = np.where(at_low >= target, -np.inf, bound)
    return np.where(at_high <= target, np.inf, bound)


class _Bracket:
    """One bound's tail (made increasing in log psi) and, per pair, the greatest log psi
    whose tail is below the target by more than `_MARGIN` (`below`) and the least whose
    tail is above it by more (`above`): every tail left of `below` is below the target and
    every tail right of `above` above it, as computed."""

    def __init__(self, pairs: _Padded, upper: bool, target: float) -> None:
        self.pairs, self.upper, self.target = pairs, upper, target
        n_pairs = pairs.log_pmf.shape[0]
        self.below = np.full(n_pairs, -np.inf)
        self.above = np.full(n_pairs, np.inf)

    def value(self, log_psi: FloatArray, rows: IntArray | None = None) -> FloatArray:
        """The tail at `log_psi` of the pairs `rows` (default all), noting clear points."""
        pairs = self.pairs if rows is None else self.pairs.rows(rows)
        tilted = _Tilted(pairs, log_psi)
        value = tilted.tail(pairs.above) if self.upper else 1.0 - tilted.tail(pairs.below)
        self._note(np.arange(log_psi.size) if rows is None else rows, log_psi, value)
        return value

    def narrow(self, solved: BoolArray) -> None:
        """For the `solved` pairs: Newton steps on the tail's logit from a normal
        approximation (a step leaving the bracket found so far bisects it instead), then a
        point either side of where they end, far enough for the tail to clear the margin."""
        rows = np.flatnonzero(solved)
        log_psi = self._normal_start(rows)
        low, high = np.full(rows.size, -_LOG_PSI_LIMIT), np.full(rows.size, _LOG_PSI_LIMIT)
        for _ in range(_NEWTON_STEPS if rows.size else 0):
            value, slope = self._value_and_slope(log_psi, rows)
            low = np.where(value < self.target, np.maximum(low, log_psi), low)
            high = np.where(value > self.target, np.minimum(high, log_psi), high)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                logit = np.log(value / (1.0 - value)) - np.log(self.target / (1.0 - self.target))
                step = log_psi - logit * value * (1.0 - value) / slope
            inside = np.isfinite(step) & (step > low) & (step < high)
            log_psi = np.where(inside, step, (low + high) / 2.0)
        if rows.size:
            # Far enough that the tail moves by twice the margin (at the last slope).
            with np.errstate(divide="ignore"):
                probe = np.clip(2.0 * _MARGIN / np.abs(slope), _PROBE, 1.0)
            probe = np.where(np.isfinite(probe), probe, _PROBE)
            for side in (-1.0, 1.0):
                self.value(log_psi + side * probe, rows)

    def _normal_start(self, rows: IntArray) -> FloatArray:
        """Where a normal T would put the bound: tilting by log psi moves T's mean by about
        log psi times its null variance, and the bound is the log psi moving it to z null
        standard deviations from the observed count."""
        pairs = self.pairs.rows(rows)
        null = np.exp(pairs.log_pmf)
        mean = np.einsum("ij,ij->i", null, pairs.shift)
        variance = np.einsum("ij,ij->i", null, (pairs.shift - mean[:, None]) ** 2)
        z = ndtri(self.target) if self.upper else -ndtri(1.0 - self.target)
        with np.errstate(divide="ignore", invalid="ignore"):
            start = (z * np.sqrt(variance) - mean) / variance
        return np.clip(np.where(np.isfinite(start), start, 0.0), -_LOG_PSI_LIMIT, _LOG_PSI_LIMIT)

    def _value_and_slope(
        self, log_psi: FloatArray, rows: IntArray
    ) -> tuple[FloatArray, FloatArray]:
        """The tail at `log_psi` and its derivative: the tilted covariance of the tail's
        indicator with T (mid-p: the observed count weighs 1/2 but sits at shift 0)."""
        pairs = self.pairs.rows(rows)
        tilted = _Tilted(pairs, log_psi)
        side = pairs.above if self.upper else pairs.below
        tail = tilted.tail(side)
        mean = np.einsum("ij,ij->i", tilted.probability, pairs.shift) / tilted.total
        moment = np.einsum("ij,ij->i", tilted.probability, pairs.shift * side) / tilted.total
        slope = moment - tail * mean
        value, slope = (tail, slope) if self.upper else (1.0 - tail, -slope)
        self._note(rows, log_psi, value)
        return value, slope

    def _note(self, rows: IntArray, log_psi: FloatArray, value: FloatArray) -> None:
        below, above = self.below[rows], self.above[rows]
        self.below[rows] = np.where(
            value < self.target - _MARGIN, np.maximum(below, log_psi), below
        )
        self.above[rows] = np.where(
            value > self.target + _MARGIN, np.minimum(above, log_psi), above
        )
