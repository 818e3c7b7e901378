"""Affect or grammar: a label's association with a facial feature inside and outside the
grammatical markers' spans, marker by marker, and pooled over the strata.

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

Marker by marker (`by_marker`), each sign token falls in exactly one stratum: the one
marker whose span it lies in (negative, wh question, topic/focus, ...), "several markers",
or "outside every marker"; so the strata are disjoint and the Mantel-Haenszel OR pools them
validly. A stratum with fewer than `MIN_FEATURE_TOKENS` tokens showing the feature, or
as few with the label, is "not estimable": no OR, no interval; the Breslow-Day test compares
only estimable strata, and is left out unless at least two are. Every OR shown is the
Haldane-corrected OR of the 2x2 counts shown beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from read.associations import (
    CHANCE,
    FACE,
    NOTE_SQL,
    ONE_SIGN,
    RANKINGS,
    ROLE_NAMES,
    TopFeatures,
    comparison_caption,
    shown_columns,
)
from read.sign_units import (
    SignUnits,
    associate_units,
    is_inside,
    load,
    only_features,
    two_by_two,
)
from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import connect_marts
from signaffect.stats.clustered_stats import Settings
from signaffect.stats.pooled_odds import pooled_odds_ratio

#: `cli.py top --context` choices besides a marker's name: every sign token, or one stratum.
CONTEXTS = ("all", "inside-grammar", "outside-grammar")
#: A stratum needs this many tokens showing the feature, and as many with the label, for
#: an OR.
MIN_FEATURE_TOKENS = 5
NOT_ESTIMABLE = "not estimable"
#: The strata of `by_marker` besides the markers' own.
SEVERAL = "several markers"
OUTSIDE_ALL = "outside every marker"
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


def markers(data: SignUnits) -> list[str]:
    """The grammatical markers some token of `data` lies in, sorted."""
    return sorted({m for row in data.units.column("markers").to_pylist() for m in row or []})


def stratum(data: SignUnits, context: str) -> SignUnits:
    """The sign tokens of one context: all, inside (outside) any marker, or inside one
    marker (by the field name, e.g. `negative`)."""
    if context == "all":
        return data
    inside = is_inside(data)
    if context == "inside-grammar":
        return data.subset(inside)
    if context == "outside-grammar":
        return data.subset(pc.invert(inside))
    if context in markers(data):
        rows = data.units.column("markers").to_pylist()
        return data.subset(pa.array([context in (row or []) for row in rows], pa.bool_()))
    choices = ", ".join([*CONTEXTS, *markers(data)])
    raise ValueError(f"unknown context {context!r}; use one of {choices}")


def marker_strata(data: SignUnits) -> list[str]:
    """Each token's one stratum: its marker, `SEVERAL` or `OUTSIDE_ALL`."""
    return [
        OUTSIDE_ALL if not row else row[0] if len(row) == 1 else SEVERAL
        for row in data.units.column("markers").to_pylist()
    ]


def estimable(table: np.ndarray) -> bool:
    """A 2x2 [[label & feature, label & not], [feature & not label, neither]] has an OR
    worth showing: at least `MIN_FEATURE_TOKENS` tokens with the feature and as many with
    the label, and some tokens without it."""
    n_label = table[0].sum()
    return bool(
        table[:, 0].sum() >= MIN_FEATURE_TOKENS
        and MIN_FEATURE_TOKENS <= n_label < table.sum()
    )


def why_not_estimable(n_feature: int, n_label: int, n_units: int) -> str:
    """'not estimable' and the reason, for a stratum `estimable` refuses."""
    if n_label == n_units:
        return f"{NOT_ESTIMABLE} (every token with the label)"
    if n_label < MIN_FEATURE_TOKENS:
        return f"{NOT_ESTIMABLE} ({n_label} with the label)"
    return f"{NOT_ESTIMABLE} ({n_feature} with the feature)"


def table_odds_ratio(table: np.ndarray) -> float:
    """The OR of one stratum's 2x2 counts as shown beside it, with Haldane's 1/2 in every
    cell so that an estimable stratum without a co-occurrence reads 0-ish, not 0."""
    (a, b), (c, d) = table.astype(np.float64) + 0.5
    return float(a * d / (b * c))


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


def stratum_rows(part: SignUnits, features: list[str], every: Settings) -> list[dict[str, Any]]:
    """Per feature, in one stratum: the 2x2 counts, and when estimable the OR of those
    counts with its story-bootstrap CI (None when no token has both); else no OR."""
    tables = two_by_two(part, features)
    ok = [estimable(t) for t in tables]
    tested = [f for f, is_ok in zip(features, ok, strict=True) if is_ok]
    found: dict[str, dict[str, Any]] = {}
    if tested:
        rows = associate_units(only_features(part, tested), every).to_pylist()
        found = {row["feature"]: row for row in rows}
    out = []
    for feature, table, is_ok in zip(features, tables, ok, strict=True):
        ci = found.get(feature, {}) if is_ok else {}
        out.append(
            {
                "feature": feature,
                "table": table,
                "n_units": int(table.sum()),
                "n_label": int(table[0].sum()),
                "n_feature": int(table[:, 0].sum()),
                "n_both": int(table[0, 0]),
                "estimable": is_ok,
                "odds_ratio": table_odds_ratio(table) if is_ok else None,
                "or_ci_low": ci.get("or_ci_low"),
                "or_ci_high": ci.get("or_ci_high"),
            }
        )
    return out


def every_pair(settings: Settings) -> Settings:
    """`settings` that test every pair seen together at all, for side-by-side strata."""
    return Settings(
        resamples=settings.resamples, seed=settings.seed, confidence=settings.confidence,
        **EVERY_PAIR,
    )  # fmt: skip


def inside_outside(data: SignUnits, features: list[str], settings: Settings) -> pa.Table:
    """One row per feature: counts, OR and story-bootstrap CI inside and outside grammar
    (None where the stratum is not estimable), the Mantel-Haenszel OR with its CI, and
    the Breslow-Day p when both strata are estimable."""
    columns: dict[str, list[object]] = {"feature": list(features)}
    strata = {}
    for context, key in (("inside-grammar", "inside"), ("outside-grammar", "outside")):
        strata[key] = stratum_rows(stratum(data, context), features, every_pair(settings))
        for column in ("odds_ratio", "or_ci_low", "or_ci_high", "n_label", "n_both", "n_units",
                       "n_feature", "estimable"):  # fmt: skip
            columns[f"{column}_{key}"] = [row[column] for row in strata[key]]
    pooled = [
        pooled_odds_ratio(
            np.stack([strata["inside"][i]["table"], strata["outside"][i]["table"]], axis=2),
            [strata["inside"][i]["estimable"], strata["outside"][i]["estimable"]],
        )
        for i in range(len(features))
    ]
    columns["mh_odds_ratio"] = [p.odds_ratio for p in pooled]
    columns["mh_ci_low"] = [p.ci_low for p in pooled]
    columns["mh_ci_high"] = [p.ci_high for p in pooled]
    columns["breslow_day_p"] = [p.breslow_day_p for p in pooled]
    return pa.table(columns)


@dataclass(frozen=True)
class MarkerStrata:
    """`by_marker`'s two tables: one row per feature x stratum, one per feature pooled."""

    strata: pa.Table
    pooled: pa.Table


def by_marker(data: SignUnits, features: list[str], settings: Settings) -> MarkerStrata:
    """Each feature stratum by stratum (each token in one: its marker, several markers, or
    outside every marker), and the Mantel-Haenszel OR over the strata with the
    Breslow-Day p over the estimable ones (None unless at least two are)."""
    names = marker_strata(data)
    order = [m for m in [*markers(data), SEVERAL, OUTSIDE_ALL] if m in set(names)]
    per_stratum = {}
    for name in order:
        part = data.subset(pa.array([n == name for n in names], pa.bool_()))
        per_stratum[name] = stratum_rows(part, features, every_pair(settings))
    strata: dict[str, list[object]] = {key: [] for key in STRATUM_COLUMNS}
    pooled: dict[str, list[object]] = {key: [] for key in POOLED_COLUMNS}
    for i, feature in enumerate(features):
        rows = [per_stratum[name][i] for name in order]
        for name, row in zip(order, rows, strict=True):
            for key in STRATUM_COLUMNS:
                strata[key].append(name if key == "stratum" else row[key])
        ok = [row["estimable"] for row in rows]
        result = pooled_odds_ratio(np.stack([row["table"] for row in rows], axis=2), ok)
        compared = [name for name, is_ok in zip(order, ok, strict=True) if is_ok]
        values = [feature, result.odds_ratio, result.ci_low, result.ci_high,
                  result.breslow_day_p,
                  ", ".join(compared) if result.breslow_day_p is not None else ""]
        for key, value in zip(POOLED_COLUMNS, values, strict=True):
            pooled[key].append(value)
    return MarkerStrata(pa.table(strata), pa.table(pooled))


#: Columns of `by_marker`'s tables.
STRATUM_COLUMNS = ("feature", "stratum", "n_units", "n_label", "n_feature", "n_both",
                   "estimable", "odds_ratio", "or_ci_low", "or_ci_high")  # fmt: skip
POOLED_COLUMNS = ("feature", "mh_odds_ratio", "mh_ci_low", "mh_ci_high", "breslow_day_p",
                  "breslow_day_strata")  # fmt: skip


@dataclass(frozen=True)
class ContextTop(TopFeatures):
    """`context_top`'s ranked rows (with the pooled columns) and the marker strata."""

    strata: pa.Table


def context_top(
    db: Path,
    label: str,
    context: str,
    family: str = "signstream",
    by: str = "ci",
    k: int = 10,
    min_support: int = 0,
    role: str = FACE,
) -> ContextTop:
    """`cli.py top --context`: the label's features at sign grain within one stratum (inside
    or outside any marker, or inside one marker), in the columns and orders of
    `associations.top_features`; each feature marker stratum by marker stratum, with the
    Mantel-Haenszel OR over them and the Breslow-Day p over the estimable ones. Resamples
    follow the association mart's."""
    if by not in RANKINGS:
        raise SignAffectError(f"cannot rank by {by!r}", f"use one of: {', '.join(RANKINGS)}")
    settings = Settings(resamples=mart_resamples(db))
    data = load(db, label, family, role=role)
    if context not in CONTEXTS and context not in markers(data):
        choices = ", ".join([*CONTEXTS, *markers(data)])
        raise SignAffectError(f"unknown context {context!r}", f"use one of: {choices}")
    table = _ranked_in_stratum(db, data, context, settings, by, k, min_support)
    split = by_marker(data, table["feature"].to_pylist(), settings)
    for name in POOLED_COLUMNS[1:]:
        table = table.append_column(name, split.pooled[name])
    part = stratum(data, context)
    n_label = sum(1 for labels in part.units["labels"].to_pylist() if labels)
    units = CONTEXT_UNITS.get(context, f"sign tokens inside the {context!r} marker")
    caption = (
        f"{label}: top {table.num_rows} {ROLE_NAMES[role]} {family} features at sign grain, "
        f"{units} ({part.units.num_rows:,} tokens, {n_label:,} carry the label; grammatical "
        f"markers: the `grammatical` fields of the field-kinds seed). OR: Mantel-Haenszel over "
        f"the stratum's stories; test: exact within each story (mid-p); 95% CI: the exact "
        f"conditional interval; BH q over this stratum's features. By marker: each "
        f"token in one stratum (its marker, {SEVERAL!r} or {OUTSIDE_ALL!r}); a stratum with "
        f"fewer than {MIN_FEATURE_TOKENS} tokens showing the feature (or with the label) is "
        f"'{NOT_ESTIMABLE}'. "
        f"MH OR: Mantel-Haenszel over the strata (tokens as independent); Breslow-Day p: do "
        f"the estimable strata's ORs differ (shown when at least two are)? '{CHANCE}': "
        f"q of .05 or more (the interval includes 1 where no test is made). {_comparison(db)}"
    )
    ranks = pa.array(range(1, table.num_rows + 1), pa.int64())
    return ContextTop(table.add_column(0, "rank", ranks), caption, split.strata)


def _ranked_in_stratum(
    db: Path, data: SignUnits, context: str, settings: Settings, by: str, k: int,
    min_support: int,
) -> pa.Table:  # fmt: skip
    """The stratum's statistics in the columns and order of `fct_label_feature_rankings`."""
    found = context_statistics(data, context, settings)
    kinds = pa.array([data.features[f] for f in found["feature"].to_pylist()], pa.string())
    roles = pa.array([data.roles[f] for f in found["feature"].to_pylist()], pa.string())
    con = duckdb.connect()
    try:
        con.register("statistics", found.append_column("kind", kinds).append_column("role", roles))
        return con.sql(
            _TOP_SQL.format(columns=", ".join(_shown_columns(db)), order=STRATUM_ORDERS[by]),
            params={"chance": CHANCE, "one_sign": ONE_SIGN, "min_support": min_support, "k": k},
        ).to_arrow_table()
    finally:
        con.close()


def mart_resamples(db: Path) -> int:
    """The resamples `fct_label_feature_associations` was built with (sign grain)."""
    con = connect_marts(db)
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


def _comparison(db: Path) -> str:
    con = connect_marts(db)
    try:
        return comparison_caption(con, "sign")
    finally:
        con.close()


def _shown_columns(db: Path) -> list[str]:
    con = connect_marts(db)
    try:
        return shown_columns(con)
    finally:
        con.close()


def _show(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}" if value < 1000 else f"{value:,.0f}"


def pooled_for_terminal(table: pa.Table) -> pa.Table:
    """The pooled columns of `context_top` for a terminal: MH OR with its CI over the
    marker strata, the Breslow-Day p and the strata it compares."""
    rows = table.to_pylist()
    return pa.table(
        {
            "rank": [r["rank"] for r in rows],
            "feature": [r["feature"] for r in rows],
            "MH OR [95% CI] over the marker strata": [
                f"{_show(r['mh_odds_ratio'])} [{_show(r['mh_ci_low'])}, {_show(r['mh_ci_high'])}]"
                for r in rows
            ],
            "Breslow-Day p": [
                _show(r["breslow_day_p"], 3) if r["breslow_day_p"] is not None
                else "fewer than 2 estimable strata" for r in rows
            ],
            "compares": [r["breslow_day_strata"] for r in rows],
        }
    )


def strata_for_terminal(strata: pa.Table) -> pa.Table:
    """`by_marker`'s strata for a terminal: counts and the OR [CI], or 'not estimable'."""
    rows = strata.to_pylist()

    def odds(r: dict[str, Any]) -> str:
        if not r["estimable"]:
            return why_not_estimable(r["n_feature"], r["n_label"], r["n_units"])
        if r["or_ci_low"] is None:
            return f"{_show(r['odds_ratio'])} (no interval: no token with both)"
        return f"{_show(r['odds_ratio'])} [{_show(r['or_ci_low'])}, {_show(r['or_ci_high'])}]"

    return pa.table(
        {
            "feature": [r["feature"] for r in rows],
            "stratum": [r["stratum"] for r in rows],
            "both / label (of all)": [
                f"{r['n_both']:,} / {r['n_label']:,} ({r['n_units']:,})" for r in rows
            ],
            "with the feature": [r["n_feature"] for r in rows],
            "OR [95% CI]": [odds(r) for r in rows],
        }
    )
