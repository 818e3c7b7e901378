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

from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import connect
from signaffect.read.confirmations import SURVIVES, beta_text, note, stored

#: The rankings of `fct_label_feature_rankings.ranked_by` (its accepted values).
RANKINGS = ("ci", "p", "lift", "pmi")
GRAINS = ("frame", "sign", "utterance")
FAMILIES = ("signstream", "au")
CHANCE = "not distinguishable from chance"
#: Units of each grain, as a caption names them.
GRAIN_UNITS = {"frame": "video frames", "sign": "sign tokens", "utterance": "utterances"}

#: How to read the numbers, for a linguist: the report, README and `cli.py top --help`.
READING_GUIDE = (
    "Each row compares the signs that carry the label (for example the signs whose gloss "
    "Empath files under negative emotion) with every other sign in the same files. "
    "P(feature | label) is how often the feature appears on the label's signs, P(feature) how "
    "often it appears on any sign, and the odds ratio (OR) how much likelier the feature is "
    "with the label (1 = no difference). The unit is the grain: a sign token (default; a sign "
    "shows a feature when the feature is on any of its frames), a whole utterance, or a single "
    "video frame; only files whose annotators coded the feature's field at all are counted. "
    "Signs of one story share a signer, a topic and a recording, so they are not independent "
    "draws: the 95% interval comes from re-drawing whole stories at random (a cluster "
    "bootstrap), and the p-value from shuffling the labels among the signs of each story (a "
    "permutation test), which asks whether, within a story, the labelled signs show the "
    "feature more often than its other signs. q corrects p for testing many pairs at once "
    "(Benjamini-Hochberg). Rows are ordered by the lower end of the OR's interval, so a "
    "feature ranks high only when even a cautious estimate is high, and a row whose interval "
    "includes 1 is marked 'not distinguishable from chance'."
)

#: Columns of `fct_label_feature_rankings` not shown per feature: its keys, the rank (shown
#: renumbered after the support filter) and `ci_excludes_one` (shown as a note).
NOT_SHOWN = ("rank", "ranked_by", "grain", "label", "feature_family", "ci_excludes_one")
#: The note of a row whose interval includes 1, from the view's `ci_excludes_one`.
NOTE_SQL = "case when ci_excludes_one then '' else $chance end as note"

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
) -> TopFeatures:
    """The `k` features of `family` that go with `label` at `grain`, best first.

    `min_support` drops features shared with the label by fewer units than that (the mart
    already requires dbt var `association_min_support`). Raises SignAffectError for an
    unknown label, grain, family or ranking.
    """
    _check_choice("rank by", by, RANKINGS)
    _check_choice("grain", grain, GRAINS)
    _check_choice("family", family, FAMILIES)
    if k < 1:
        raise SignAffectError(f"k must be at least 1, not {k}", "pass --k 10, for example")
    con = connect(db, read_only=True)
    try:
        _check_label(con, label, grain)
        table = con.sql(
            _SQL,
            params={
                "by": by,
                "chance": CHANCE,
                "label": label,
                "grain": grain,
                "family": family,
                "min_support": min_support,
                "k": k,
            },
        ).to_arrow_table()
        caption = _caption(con, label, grain, family, by, table.num_rows)
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
            "q": [f"{r['q_value']:.2g}" for r in rows],
            "note": [r["note"] for r in rows],
            **_mixed_columns(rows),
        }
    )


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
        "select any_value(n_label), any_value(cluster_unit), any_value(n_clusters), "
        "any_value(n_resamples) from fct_label_feature_associations "
        "where label = $label and grain = $grain",
        {"label": label, "grain": grain},
    ).fetchall()[0]
    n_label, cluster_unit, n_clusters, resamples = row
    order = "lower 95% bound of the odds ratio" if by == "ci" else by
    block = "sign tokens" if grain != "utterance" else "utterances"
    return (
        f"{label}: top {n} {family} features at {grain} grain (unit: {GRAIN_UNITS[grain]}; "
        f"{n_label:,} carry the label), by {order}. 95% CI: bootstrap over {n_clusters} "
        f"{cluster_unit} clusters, {resamples:,} draws. Test: labels permuted between "
        f"{block} within each {cluster_unit} ({resamples:,} permutations), Benjamini-Hochberg "
        f"q. '{CHANCE}': the OR's interval includes 1."
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
