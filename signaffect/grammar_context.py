"""Affect or grammar: a label's association with a facial feature inside and outside the
grammatical markers' spans, and pooled over both.

The ASL face carries grammar (brows for wh- and yes/no questions, the head shake for
negation), so a face-label association can be grammar. Splitting the sign tokens into
those inside any grammatical marker of the field-kinds seed and those outside every one
(`fct_sign_token_grammar`) and computing the clustered statistics in each stratum asks
whether the association survives where grammar cannot explain it. The Mantel-Haenszel OR
pools the two strata's 2x2 tables, and the Breslow-Day test asks whether the OR differs
between them (statsmodels `StratifiedTable`; Breslow & Day 1980, *Statistical Methods in
Cancer Research* I, §4.4, with Tarone's correction). Those two treat sign tokens as
independent (Robins-Breslow-Greenland variance), so their interval is narrower than the
story-bootstrap intervals of each stratum, which keep every dependence inside a story.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from statsmodels.stats.contingency_tables import StratifiedTable

from signaffect.clustered_stats import Settings
from signaffect.sign_units import SignUnits, associate_units, is_inside, two_by_two

#: `cli.py top --context` choices: every sign token, or one stratum.
CONTEXTS = ("all", "inside-grammar", "outside-grammar")
#: Settings that test every pair seen together at all, for side-by-side strata.
EVERY_PAIR = {"min_support": 1, "min_clusters": 1}


def stratum(data: SignUnits, context: str) -> SignUnits:
    """The sign tokens of one context."""
    if context == "all":
        return data
    inside = is_inside(data)
    if context == "inside-grammar":
        return data.subset(inside)
    if context == "outside-grammar":
        return data.subset(pc.invert(inside))
    raise ValueError(f"unknown context {context!r}; use one of {', '.join(CONTEXTS)}")


def ranked(statistics: pa.Table) -> pa.Table:
    """Rows in the mart's order: the lower CI bound of the OR, then shared units, then name."""
    order = sorted(
        range(statistics.num_rows),
        key=lambda i: (
            -_or_nan(statistics["or_ci_low"][i].as_py()),
            -statistics["n_both"][i].as_py(),
            statistics["feature"][i].as_py(),
        ),
    )
    table = statistics.take(pa.array(order, pa.int64()))
    return table.append_column("rank", pa.array(range(1, table.num_rows + 1), pa.int64()))


def _or_nan(value: float | None) -> float:
    return -np.inf if value is None or np.isnan(value) else value


def context_statistics(data: SignUnits, context: str, settings: Settings) -> pa.Table:
    """The label's clustered statistics against every feature, in one context, ranked."""
    table = ranked(associate_units(stratum(data, context), settings))
    return table.append_column("context", pa.array([context] * table.num_rows, pa.string()))


def inside_outside(data: SignUnits, features: list[str], settings: Settings) -> pa.Table:
    """One row per feature: OR and story-bootstrap CI inside and outside grammar (every
    pair seen together at least once is tested), the 2x2 counts of each stratum, the
    Mantel-Haenszel OR with its CI, and the Breslow-Day p-value."""
    every = Settings(
        resamples=settings.resamples,
        seed=settings.seed,
        confidence=settings.confidence,
        **EVERY_PAIR,
    )
    columns: dict[str, list[object]] = {"feature": list(features)}
    strata = {}
    for context, key in (("inside-grammar", "inside"), ("outside-grammar", "outside")):
        part = stratum(data, context)
        strata[key] = two_by_two(part, features)
        found = {row["feature"]: row for row in associate_units(part, every).to_pylist()}
        for column in ("odds_ratio", "or_ci_low", "or_ci_high"):
            columns[f"{column}_{key}"] = [
                found[f][column] if f in found else None for f in features
            ]
        columns[f"n_label_{key}"] = [int(t[0].sum()) for t in strata[key]]
        columns[f"n_both_{key}"] = [int(t[0, 0]) for t in strata[key]]
        columns[f"n_units_{key}"] = [int(t.sum()) for t in strata[key]]
    pooled = [
        mantel_haenszel(np.stack([strata["inside"][i], strata["outside"][i]], axis=2))
        for i in range(len(features))
    ]
    for j, name in enumerate(("mh_odds_ratio", "mh_ci_low", "mh_ci_high", "breslow_day_p")):
        columns[name] = [p[j] for p in pooled]
    return pa.table(columns)


def mantel_haenszel(tables: np.ndarray) -> tuple[float | None, ...]:
    """MH OR, its 95% CI and the Breslow-Day p of 2 x 2 x K tables. Strata without the
    label or without the feature carry no information and are dropped; None when fewer
    than one (OR) or two (test) strata remain."""
    keep = [
        k
        for k in range(tables.shape[2])
        if tables[0, :, k].sum()
        and tables[1, :, k].sum()
        and tables[:, 0, k].sum()
        and tables[:, 1, k].sum()
    ]
    if not keep:
        return (None, None, None, None)
    table = StratifiedTable(tables[:, :, keep])
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        odds = float(table.oddsratio_pooled)
        low, high = (float(x) for x in table.oddsratio_pooled_confint())
        bd = float(table.test_equal_odds().pvalue) if len(keep) > 1 else None
    return tuple(None if x is None or not np.isfinite(x) else x for x in (odds, low, high, bd))
