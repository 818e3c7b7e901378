"""Which features go with a label: rows of `fct_label_feature_rankings`, read-only.

Every ranking (`ci`, the mart's own `rank` by the lower 95% bound of the log odds ratio, and
`p`, `lift`, `pmi`) and its columns are written once, in that dbt view; Python only filters
it. One grain and one feature family at a time, never SignStream codes and action units mixed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from read.confirmations import SURVIVES, beta_text, note, stored
from signaffect.core.choices import FACE, FAMILIES, GRAINS, RANKINGS, ROLES
from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import connect_marts

CHANCE = "not distinguishable from chance"
ONE_SIGN = "one sign"
#: Units of each grain, as a caption names them.
GRAIN_UNITS = {"frame": "video frames", "sign": "sign tokens", "utterance": "utterances"}

#: Columns of `fct_label_feature_rankings` not shown per feature: its keys, the rank (shown
#: renumbered after the support filter) and the verdicts `ci_excludes_one`, `beats_chance`
#: and `one_sign` (shown as the note).
NOT_SHOWN = (
    "rank",
    "ranked_by",
    "grain",
    "label",
    "feature_family",
    "ci_excludes_one",
    "beats_chance",
    "one_sign",
)
#: How a caption names each role's features.
ROLE_NAMES = {
    "face": "face",
    "body": "body",
    "grammar": "grammatical-marker",
    "lexical": "lexical (the word, not the face)",
    "all": "every role's",
}
#: The note of a row: the view's `beats_chance` and `one_sign`, in words.
NOTE_SQL = (
    "concat_ws('; ', case when beats_chance then null else $chance end, "
    "case when one_sign then $one_sign || ' (' || top_gloss || ' ' || top_gloss_n_both "
    "|| ' of ' || n_both || ')' end) as note"
)

#: The view's rows for one label, grain and family.
_SQL = f"""
select
    row_number() over (order by rank) as rank,
    * exclude ({", ".join(NOT_SHOWN)}),
    {NOTE_SQL},
from fct_label_feature_rankings
where ranked_by = $by
    and label = $label
    and grain = $grain
    and feature_family = $family
    and list_contains($roles, role)
    and n_both >= $min_support
order by rank
limit $k
"""


@dataclass(frozen=True)
class TopFeatures:
    """The ranked rows and the caption that says what they were computed over."""

    table: pa.Table
    caption: str


def top_features(
    db: Path,
    label: str,
    grain: str = "sign",
    family: str = "signstream",
    by: str = "ci",
    k: int = 10,
    min_support: int = 0,
    role: str = FACE,
) -> TopFeatures:
    """The `k` features of `family` and `role` that go with `label` at `grain`, best first.

    `min_support` drops features shared with the label by fewer units than that (the mart
    already requires dbt var `association_min_support`). Raises SignAffectError for an
    unknown label, grain, family, role or ranking.
    """
    _check_choice("rank by", by, RANKINGS)
    _check_choice("grain", grain, GRAINS)
    _check_choice("family", family, FAMILIES)
    _check_choice("role", role, ROLES)
    if k < 1:
        raise SignAffectError(f"k must be at least 1, not {k}", "pass --k 10, for example")
    con = connect_marts(db)
    try:
        _check_label(con, label, grain)
        table = con.sql(
            _SQL,
            params={
                "by": by,
                "chance": CHANCE,
                "one_sign": ONE_SIGN,
                "label": label,
                "grain": grain,
                "family": family,
                "roles": roles_of(role),
                "min_support": min_support,
                "k": k,
            },
        ).to_arrow_table()
        caption = _caption(con, label, grain, f"{ROLE_NAMES[role]} {family}", by, table.num_rows)
        caption += " " + comparison_caption(con, grain)
        fits = stored(con, label, family) if grain == "sign" else {}
        if grain == "sign":
            table = with_mixed_model(table, fits)
        if fits:
            caption += (
                " Mixed model: lme4 glmer β (log OR) [95% Wald CI] with random signer and gloss "
                "intercepts (and story, when it converges), stored by `cli.py confirm`; "
                f"'{SURVIVES}': converged and the CI lies above 0."
            )
    except duckdb.CatalogException:
        raise SignAffectError(
            f"{db} has no fct_label_feature_rankings view",
            "run `cli.py build` to build the association mart",
        ) from None
    finally:
        con.close()
    return TopFeatures(table, caption)


def roles_of(role: str) -> list[str]:
    """The `dim_features.role` values `role` selects (`all`: every one but labels)."""
    return [r for r in ROLES if r != "all"] if role == "all" else [role]


def comparison_caption(con: duckdb.DuckDBPyConnection, grain: str) -> str:
    """One sentence naming the comparison set at `grain` and both its counts."""
    try:
        rows = con.execute(
            "select comparison_set, n_units_compared, n_units_eligible, n_units_all "
            "from fct_association_comparison_sets where grain = $grain",
            {"grain": grain},
        ).fetchall()
    except duckdb.CatalogException:
        return "Comparison set: unknown (built before fct_association_comparison_sets)."
    if not rows:
        return ""
    chosen, compared, eligible, every = rows[0]
    units = GRAIN_UNITS[grain]
    if chosen == "eligible":
        return (
            f"Compared with the {compared:,} eligible {units} (those that could carry a "
            f"label) of all {every:,} (dbt var comparison_set: eligible)."
        )
    return (
        f"Compared with all {compared:,} {units} (dbt var comparison_set: all; "
        f"{eligible:,} of them could carry a label)."
    )


def with_mixed_model(table: pa.Table, fits: dict[str, dict]) -> pa.Table:
    """The ranked rows with `cli.py confirm`'s stored mixed-model fit of each feature: β
    and its 95% CI, convergence and the note (null and '' for a pair never confirmed)."""
    found = [fits.get(feature) for feature in table["feature"].to_pylist()]

    def value(name: str) -> pa.Array:
        return pa.array([None if f is None else f[name] for f in found], pa.float64())

    return (
        table.append_column("mixed_beta", value("beta"))
        .append_column("mixed_ci_low", value("ci_low"))
        .append_column("mixed_ci_high", value("ci_high"))
        .append_column("mixed_note", pa.array([note(f) for f in found], pa.string()))
        .append_column("mixed_text", pa.array([beta_text(f) for f in found], pa.string()))
    )


def shown_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The columns `fct_label_feature_rankings` shows for each ranked feature, in its order."""
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_name = 'fct_label_feature_rankings' order by ordinal_position"
    ).fetchall()
    if not rows:
        raise SignAffectError(
            "the warehouse has no fct_label_feature_rankings view",
            "run `cli.py build` to build the association marts",
        )
    return [row[0] for row in rows if row[0] not in NOT_SHOWN]


def for_terminal(table: pa.Table) -> pa.Table:
    """The ranked rows narrowed for a terminal: counts as `both / label of units`, the OR
    with its interval in one column, probabilities to 3 places."""
    rows = table.to_pylist()

    def number(value: float, digits: int) -> str:
        return f"{value:.{digits}f}" if value < 1000 else f"{value:,.0f}"

    return pa.table(
        {
            "rank": [r["rank"] for r in rows],
            "feature": [r["feature"] for r in rows],
            "both / label (of all)": [
                f"{r['n_both']:,} / {r['n_label']:,} ({r['n_units']:,})" for r in rows
            ],
            "P(feature)": [f"{r['p_feature']:.3f}" for r in rows],
            "P(feature | label)": [f"{r['p_feature_given_label']:.3f}" for r in rows],
            "lift": [f"{r['lift']:.2f}" for r in rows],
            "OR [95% CI]": [
                f"{number(r['odds_ratio'], 2)} [{number(r['or_ci_low'], 2)}, "
                f"{number(r['or_ci_high'], 2)}]"
                for r in rows
            ],
            "q": ["no test" if r["q_value"] is None else f"{r['q_value']:.2g}" for r in rows],
            "glosses (top)": [_glosses(r) for r in rows],
            "note": [r["note"] for r in rows],
            **_mixed_columns(rows),
        }
    )


def _glosses(row: dict[str, object]) -> str:
    """`n (TOP share)`: the signs behind a row's co-occurrences; blank at utterance grain."""
    if row.get("n_glosses_both") is None:
        return ""
    return f"{row['n_glosses_both']} ({row['top_gloss']} {row['top_gloss_share']:.0%})"


def _mixed_columns(rows: list[dict]) -> dict[str, list[str]]:
    """The stored mixed-model column, shown when `cli.py confirm` fitted any listed pair."""
    if not any(r.get("mixed_note") for r in rows):
        return {}
    return {
        "mixed model β [95% CI]": [
            " ".join(filter(None, (r["mixed_text"], f"({r['mixed_note']})" if r["mixed_note"]
                                   else ""))) for r in rows
        ]
    }


def _caption(
    con: duckdb.DuckDBPyConnection, label: str, grain: str, family: str, by: str, n: int
) -> str:
    row = con.execute(
        "select any_value(n_label_all), any_value(n_units_all), any_value(cluster_unit), "
        "any_value(n_clusters), any_value(n_resamples), any_value(or_ci_method) "
        "from fct_label_feature_associations where label = $label and grain = $grain",
        {"label": label, "grain": grain},
    ).fetchall()[0]
    n_label, n_units, cluster_unit, n_clusters, resamples, method = row
    order = "lower 95% bound of the odds ratio" if by == "ci" else by
    if grain == "frame":
        inference = (
            f"OR: Mantel-Haenszel over {n_clusters} {cluster_unit} strata; 95% CI: {method}, "
            f"{resamples:,} draws. No test at frame grain (the frames of a sign are not "
            f"exchangeable): '{CHANCE}': the OR's interval includes 1."
        )
    else:
        inference = (
            f"OR: Mantel-Haenszel over {n_clusters} {cluster_unit} strata. Test: exact, "
            f"within each {cluster_unit} (mid-p of the co-occurrence count); 95% CI: {method}, "
            f"which excludes 1 exactly when p < .05; Benjamini-Hochberg q within each feature "
            f"family and kind. '{CHANCE}': q >= .05."
        )
    return (
        f"{label}: top {n} {family} features at {grain} grain (unit: {GRAIN_UNITS[grain]}; "
        f"{n_label:,} of {n_units:,} carry the label; each row counts the files coding its "
        f"feature), by {order}. {inference} '{ONE_SIGN}': one gloss carries the "
        f"co-occurrences (ranked last)."
    )


def _check_choice(what: str, value: str, allowed: Iterable[str]) -> None:
    choices = list(allowed)
    if value not in choices:
        raise SignAffectError(f"cannot use {what} {value!r}", f"use one of: {', '.join(choices)}")


def _check_label(con: duckdb.DuckDBPyConnection, label: str, grain: str) -> None:
    """A label must have tested pairs at `grain`; otherwise say why and suggest names."""
    tested = con.execute(
        "select count(*) from fct_label_feature_associations "
        "where label = $label and grain = $grain",
        {"label": label, "grain": grain},
    ).fetchall()
    if tested[0][0] > 0:
        return
    known = con.execute(
        "select feature_kind, n_frames from dim_features where feature = $label", {"label": label}
    ).fetchall()
    if known:
        kind, n_frames = known[0]
        raise SignAffectError(
            f"label {label!r} ({kind}, {n_frames} frames) has no tested pairs at {grain} grain",
            "labels are lexical features; a pair needs dbt var association_min_support units "
            "with both, in association_min_clusters stories",
        )
    names = [
        row[0]
        for row in con.execute(
            "select feature from dim_features where feature_kind = 'lexical'"
        ).fetchall()
    ]
    raise SignAffectError(f"unknown label {label!r}", _suggestion(label, names))


def _suggestion(label: str, names: list[str]) -> str:
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(label.lower(), list(by_lower), n=5, cutoff=0.6)
    contains = [n for low, n in sorted(by_lower.items()) if label.lower() in low]
    suggestions = list(dict.fromkeys(contains + [by_lower[c] for c in close]))[:5]
    listing = (
        'list labels with: cli.py query "select feature from dim_features '
        "where feature_kind = 'lexical'\""
    )
    if suggestions:
        return f"did you mean {', '.join(repr(s) for s in suggestions)}? ({listing})"
    return listing
