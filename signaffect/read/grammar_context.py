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
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from statsmodels.stats.contingency_tables import StratifiedTable

from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import connect
from signaffect.read.associations import (
    CHANCE,
    NOTE_SQL,
    ONE_SIGN,
    RANKINGS,
    TopFeatures,
    shown_columns,
)
from signaffect.read.sign_units import SignUnits, associate_units, is_inside, load, two_by_two
from signaffect.stats.clustered_stats import Settings

#: `cli.py top --context` choices: every sign token, or one stratum.
CONTEXTS = ("all", "inside-grammar", "outside-grammar")
#: Settings that test every pair seen together at all, for side-by-side strata.
EVERY_PAIR = {"min_support": 1, "min_clusters": 1}
#: How a caption names each stratum's units.
CONTEXT_UNITS = {
    "all": "every sign token",
    "inside-grammar": "sign tokens inside a grammatical marker",
    "outside-grammar": "sign tokens outside every grammatical marker",
}

#: `fct_label_feature_rankings`' orders, applied to a stratum's statistics, which are
#: computed here at query time and so are not in the warehouse for the view to rank.
STRATUM_ORDERS = {
    "ci": "rank",
    "p": "p_feature_given_label desc, n_both desc, feature",
    "lift": "lift desc, n_both desc, feature",
    "pmi": "pmi desc, n_both desc, feature",
}

#: A stratum's statistics in the columns of `fct_label_feature_rankings` (`{columns}`).
_TOP_SQL = f"""
with

scored as (
    select
        *,
        log2(lift) as pmi,
        or_ci_low > 1 or or_ci_high < 1 as ci_excludes_one,
    from statistics
)

select {{columns}}, {NOTE_SQL},
from scored
where n_both >= $min_support
order by {{order}}
limit $k
"""


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


def context_top(
    db: Path,
    label: str,
    context: str,
    family: str = "signstream",
    by: str = "ci",
    k: int = 10,
    min_support: int = 0,
) -> TopFeatures:
    """`cli.py top --context`: the label's features at sign grain within one stratum, in the
    columns and orders of `associations.top_features`, each with the Mantel-Haenszel OR
    over both strata and the Breslow-Day p. Resamples follow the association mart's."""
    if context not in CONTEXTS:
        raise SignAffectError(f"unknown context {context!r}", f"use one of: {', '.join(CONTEXTS)}")
    if by not in RANKINGS:
        raise SignAffectError(f"cannot rank by {by!r}", f"use one of: {', '.join(RANKINGS)}")
    settings = Settings(resamples=mart_resamples(db))
    columns = _shown_columns(db)
    data = load(db, label, family)
    part = stratum(data, context)
    found = context_statistics(data, context, settings)
    kinds = pa.array([data.features[f] for f in found["feature"].to_pylist()], pa.string())
    con = duckdb.connect()
    try:
        con.register("statistics", found.append_column("kind", kinds))
        table = con.sql(
            _TOP_SQL.format(columns=", ".join(columns), order=STRATUM_ORDERS[by]),
            params={"chance": CHANCE, "one_sign": ONE_SIGN, "min_support": min_support, "k": k},
        ).to_arrow_table()
    finally:
        con.close()
    pooled = inside_outside(data, table["feature"].to_pylist(), settings)
    for name in ("mh_odds_ratio", "mh_ci_low", "mh_ci_high", "breslow_day_p"):
        table = table.append_column(name, pooled[name])
    ranks = pa.array(range(1, table.num_rows + 1), pa.int64())
    n_label = sum(1 for labels in part.units["labels"].to_pylist() if labels)
    caption = (
        f"{label}: top {table.num_rows} {family} features at sign grain, "
        f"{CONTEXT_UNITS[context]} ({part.units.num_rows:,} tokens, {n_label:,} carry the "
        f"label; grammatical markers: the `grammatical` fields of the field-kinds seed). 95% "
        f"OR: Mantel-Haenszel over the stratum's stories; test: exact within each story "
        f"(mid-p), 95% CI: the exact conditional interval; BH q over this stratum's features. "
        f"MH OR: Mantel-Haenszel over the inside and outside strata (tokens as independent), "
        f"Breslow-Day p: do the strata's ORs differ? '{CHANCE}': the OR's interval includes 1."
    )
    return TopFeatures(table.add_column(0, "rank", ranks), caption)


def mart_resamples(db: Path) -> int:
    """The resamples `fct_label_feature_associations` was built with (sign grain)."""
    con = connect(db, read_only=True)
    try:
        row = con.execute(
            "select any_value(n_resamples) from fct_label_feature_associations where grain = 'sign'"
        ).fetchall()
    except duckdb.CatalogException:
        raise SignAffectError(
            f"{db} has no fct_label_feature_associations table",
            "run `cli.py build` to build the association mart",
        ) from None
    finally:
        con.close()
    return int(row[0][0]) if row and row[0][0] else Settings().resamples


def _shown_columns(db: Path) -> list[str]:
    con = connect(db, read_only=True)
    try:
        return shown_columns(con)
    finally:
        con.close()


def pooled_for_terminal(table: pa.Table) -> pa.Table:
    """The pooled columns of `context_top` for a terminal: MH OR with its CI, Breslow-Day p."""

    def show(value: float | None, digits: int = 2) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    rows = table.to_pylist()
    return pa.table(
        {
            "rank": [r["rank"] for r in rows],
            "feature": [r["feature"] for r in rows],
            "MH OR [95% CI], inside and outside": [
                f"{show(r['mh_odds_ratio'])} [{show(r['mh_ci_low'])}, {show(r['mh_ci_high'])}]"
                for r in rows
            ],
            "Breslow-Day p": [show(r["breslow_day_p"], 3) for r in rows],
        }
    )
