"""The fast paths of the association statistics give the same bits as their definitions, on
the real corpus's tables.

`fct_label_feature_statistics` must not change when its computation gets faster, so each
path that replaced a slower one is held here to the computation it replaced, bit for bit,
on the inputs the NCSLGR build feeds it: the null distributions (every pair's stratum
probabilities at once), the bisection's tilted tails (exponentials on the support only) and
its bounds (comparisons a Newton bracket decides are not evaluated), the bootstrap
intervals (pairs x draws, distinct columns summed once, single-rank partitions instead of a
sort) and the Benjamini-Hochberg q-values (without scipy.stats).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.special import gammaln
from scipy.stats import false_discovery_control

from signaffect.core.warehouse import connect
from signaffect.stats import association_model, clustered_stats, exact_stratified
from signaffect.stats.association_model import model_settings
from tests.conftest import TEST_DBT_VARS


@pytest.fixture(scope="module")
def captured(corpus_db: Path) -> dict[str, list[Any]]:
    """The arguments of every exact test and bootstrap interval, and the result, of the
    statistics over the NCSLGR build's units (the test builds' resamples)."""
    calls: dict[str, list[Any]] = {"exact": [], "bootstrap": []}
    exact, bootstrap = clustered_stats.exact_test, clustered_stats._bootstrap_interval

    def exact_test(*tables: Any, **options: Any) -> Any:
        calls["exact"].append(tables)
        return exact(*tables, **options)

    def bootstrap_interval(*args: Any) -> Any:
        calls["bootstrap"].append(args)
        return bootstrap(*args)

    with connect(corpus_db, read_only=True) as con:
        units = con.table("fct_association_units").to_arrow_table()
        coverage = con.table("fct_feature_coverage").to_arrow_table()
        features = con.sql("select feature, family, feature_kind from dim_features").fetchall()
    families = {feature: f"{family}/{kind}" for feature, family, kind in features}
    settings = model_settings(
        TEST_DBT_VARS["association_resamples"], 42, {"frame": 10, "sign": 5, "utterance": 5},
        3, "story",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clustered_stats, "exact_test", exact_test)
        patch.setattr(clustered_stats, "_bootstrap_interval", bootstrap_interval)
        calls["result"] = [association_model.statistics(units, coverage, settings, families)]
    assert calls["exact"] and calls["bootstrap"]
    return calls


def _null_distribution(m: np.ndarray, t: np.ndarray, n: np.ndarray) -> tuple[int, np.ndarray]:
    """The definition: one pair's strata convolved in order, from ones."""
    low, high = np.maximum(0.0, m + t - n), np.minimum(m, t)
    pmf = np.ones(1)
    for mk, tk, nk, lk, hk in zip(m, t, n, low, high, strict=True):
        if hk > lk:
            v = lk + np.arange(int(hk - lk) + 1)
            log_pmf = (
                gammaln(tk + 1) - gammaln(v + 1) - gammaln(tk - v + 1)
                + (gammaln(nk - tk + 1) - gammaln(mk - v + 1) - gammaln(nk - tk - mk + v + 1))
                - (gammaln(nk + 1) - gammaln(mk + 1) - gammaln(nk - mk + 1))
            )
            pmf = np.convolve(pmf, np.exp(log_pmf))
    return int(low.sum()), pmf if pmf.size == 1 else pmf / pmf.sum()


def test_null_distributions_are_the_pairwise_convolutions(captured: dict[str, list]) -> None:
    compared = 0
    for _, m, t, n in captured["exact"]:
        for j, (offset, pmf) in enumerate(exact_stratified.null_distributions(m, t, n)):
            expected_offset, expected = _null_distribution(m[:, j], t[:, j], n[:, j])
            assert offset == expected_offset
            assert pmf.tobytes() == expected.tobytes(), f"pair {j}"
            compared += 1
    assert compared > 1000


def test_tilted_tails_are_the_mid_p_formula(captured: dict[str, list]) -> None:
    a, m, t, n = captured["exact"][0]
    distributions = exact_stratified.null_distributions(m, t, n)
    order = np.argsort([pmf.size for _, pmf in distributions], kind="stable")[-256:]
    pairs = exact_stratified._padded([distributions[j] for j in order], a.sum(axis=0)[order])
    for log_psi in (-3.0, 0.0, 0.7, 12.5):
        psi = np.full(order.size, log_psi)
        weights = pairs.log_pmf + psi[:, None] * pairs.shift
        probability = np.exp(weights - weights.max(axis=1, keepdims=True))
        total, half = probability.sum(axis=1), 0.5 * np.einsum("ij,ij->i", probability, pairs.at)
        tilted = exact_stratified._Tilted(pairs, psi)
        for side in (pairs.below, pairs.above):
            expected = (np.einsum("ij,ij->i", probability, side) + half) / total
            assert tilted.tail(side).tobytes() == expected.tobytes()


def _bisection(pairs: Any, alpha: float, upper: bool) -> np.ndarray:
    """The definition: every pair's tail evaluated at every one of the 36 middles."""

    def tail(log_psi: np.ndarray) -> np.ndarray:
        tilted = exact_stratified._Tilted(pairs, log_psi)
        return tilted.tail(pairs.above) if upper else 1.0 - tilted.tail(pairs.below)

    target = alpha if upper else 1.0 - alpha
    limit = exact_stratified._LOG_PSI_LIMIT
    low, high = np.full(pairs.shift.shape[0], -limit), np.full(pairs.shift.shape[0], limit)
    for _ in range(exact_stratified._BISECTIONS):
        middle = (low + high) / 2.0
        rising = tail(middle) < target
        low, high = np.where(rising, middle, low), np.where(rising, high, middle)
    bound = np.where(tail(np.full(low.size, -limit)) >= target, -np.inf, (low + high) / 2.0)
    return np.where(tail(np.full(low.size, limit)) <= target, np.inf, bound)


def test_interval_bounds_are_the_full_bisection(captured: dict[str, list]) -> None:
    """The bisection that skips the comparisons its Newton bracket decides gives the bits
    of the one that evaluates them all, for every pair of every exact test of the build."""
    compared = 0
    for a, m, t, n in captured["exact"]:
        distributions = exact_stratified.null_distributions(m, t, n)
        order = np.argsort([pmf.size for _, pmf in distributions], kind="stable")
        for start in range(0, order.size, exact_stratified._CHUNK_PAIRS):
            chunk = order[start : start + exact_stratified._CHUNK_PAIRS]
            pairs = exact_stratified._padded(
                [distributions[j] for j in chunk], a.sum(axis=0)[chunk]
            )
            for upper in (True, False):
                solved = exact_stratified._solve(pairs, 0.025, upper)
                assert solved.tobytes() == _bisection(pairs, 0.025, upper).tobytes()
                compared += chunk.size
    assert compared > 2000


def _sorted_quantiles(values: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """The definition: numpy's linear quantiles of each column by a sort, NaN left out."""
    ordered = np.sort(values, axis=0)
    valid = np.sum(~np.isnan(values), axis=0)
    position = np.maximum(valid - 1, 0)[None, :] * quantiles[:, None]
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, np.maximum(valid - 1, 0)[None, :])
    below = np.take_along_axis(ordered, low, axis=0)
    above = np.take_along_axis(ordered, high, axis=0)
    fraction = position - low
    with np.errstate(invalid="ignore"):
        result = np.where(
            (fraction == 0) | (above == below), below, below + (above - below) * fraction
        )
    return np.where(valid[None, :] > 0, result, np.nan)


def test_bootstrap_intervals_are_the_sorted_draws(captured: dict[str, list]) -> None:
    lifts = 0
    for columns, statistic, weights, confidence in captured["bootstrap"]:
        draws = weights.astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = statistic(*(draws @ x.astype(np.float32) for x in columns))
        expected = _sorted_quantiles(values, clustered_stats.interval_quantiles(confidence))
        low, high = clustered_stats._bootstrap_interval(columns, statistic, weights, confidence)
        assert low.tobytes() == expected[0].tobytes()
        assert high.tobytes() == expected[1].tobytes()
        lifts += statistic is clustered_stats._lift
    assert lifts == 3, "one lift interval per grain"


def test_q_values_are_scipys(captured: dict[str, list]) -> None:
    result = captured["result"][0]
    p_value = result.column("p_value").to_numpy(zero_copy_only=False)
    for family in set(result.column("test_family").to_pylist()):
        for grain in ("sign", "utterance"):
            rows = np.flatnonzero(
                (result.column("test_family").to_numpy(zero_copy_only=False) == family)
                & (result.column("grain").to_numpy(zero_copy_only=False) == grain)
            )
            if rows.size:
                expected = false_discovery_control(p_value[rows])
                q_value = clustered_stats.benjamini_hochberg(p_value[rows])
                assert q_value.tobytes() == expected.tobytes()
