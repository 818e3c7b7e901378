"""The Mantel-Haenszel odds ratio pooled over 2 x 2 strata, its 95% CI, and the Breslow-Day
test of equal odds ratios across them: what `top --context` pools over grammatical markers
and `signers` tests across signers.

Why here: a pooled OR over a handful of strata is statistics, not a read of the warehouse;
both readers call this one function and get a `PooledOddsRatio` back, with how many strata
it could use, so neither counts informative strata again.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.contingency_tables import StratifiedTable


@dataclass(frozen=True)
class PooledOddsRatio:
    """MH OR with its 95% CI over the informative strata, the Breslow-Day p over the
    informative strata that are comparable; None where not estimable (no informative
    stratum for the OR, fewer than two compared strata for the test)."""

    odds_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    breslow_day_p: float | None
    n_informative: int  # strata with the label, without it, with the feature and without it
    n_compared: int  # of those, the strata the Breslow-Day test compared


def informative_strata(tables: np.ndarray) -> list[int]:
    """The strata k of 2 x 2 x K `tables` (label x feature) that carry information: both
    rows and both columns non-empty."""
    return [
        k
        for k in range(tables.shape[2])
        if tables[0, :, k].sum()
        and tables[1, :, k].sum()
        and tables[:, 0, k].sum()
        and tables[:, 1, k].sum()
    ]


def pooled_odds_ratio(
    tables: np.ndarray, comparable: Sequence[bool] | None = None
) -> PooledOddsRatio:
    """MH OR, its 95% CI and the Breslow-Day p of 2 x 2 x K tables (label x feature x
    stratum). Strata without the label or without the feature are dropped; the Breslow-Day
    test compares only the informative strata that are `comparable` (default: all)."""
    keep = informative_strata(tables)
    if not keep:
        return PooledOddsRatio(None, None, None, None, 0, 0)
    compared = [k for k in keep if comparable is None or comparable[k]]
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        table = StratifiedTable(tables[:, :, keep])
        odds = float(table.oddsratio_pooled)
        low, high = (float(x) for x in table.oddsratio_pooled_confint())
        bd = (
            float(StratifiedTable(tables[:, :, compared]).test_equal_odds().pvalue)
            if len(compared) > 1
            else None
        )
    odds_, low_, high_, bd_ = (
        None if x is None or not np.isfinite(x) else x for x in (odds, low, high, bd)
    )
    return PooledOddsRatio(odds_, low_, high_, bd_, len(keep), len(compared))
