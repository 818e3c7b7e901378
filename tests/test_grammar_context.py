"""Affect or grammar on the sample corpus: strata counted as SQL counts them, the
Mantel-Haenszel OR and Breslow-Day p against statsmodels and the textbook formula, and
`cli.py top --context`."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest
from statsmodels.stats.contingency_tables import StratifiedTable
from typer.testing import CliRunner

from cli import app
from read.grammar_context import (
    EVERY_PAIR,
    MIN_FEATURE_TOKENS,
    by_marker,
    inside_outside,
    marker_strata,
    stratum,
)
from read.sign_units import associate_units, load, two_by_two
from signaffect.stats.clustered_stats import Settings
from signaffect.stats.pooled_odds import PooledOddsRatio, pooled_odds_ratio

runner = CliRunner()
LABEL = "empath:negative_emotion"
FEATURE = "eye aperture=slightly squinted"

#: The counts of LABEL x FEATURE per stratum, written independently of the Python path: a
#: token is inside when any marker row says so; only files coding the feature and the
#: tokens of the comparison set (fct_association_units) count.
STRATA_SQL = """
with

tokens as (
    select
        sign_token_id,
        source_file,
        list_contains(lexical_labels, $label) as has_label,
    from fct_sign_tokens
),

inside as (
    select sign_token_id, bool_or(is_inside) as is_inside,
    from fct_sign_token_grammar
    group by sign_token_id
),

with_feature as (
    select distinct sign_token_id from fct_sign_token_features where feature = $feature
),

coded as (
    select source_file from fct_feature_coverage where feature = $feature
)

select
    inside.is_inside,
    count(*) as n_units,
    count(*) filter (where has_label) as n_label,
    count(with_feature.sign_token_id) as n_feature,
    count(with_feature.sign_token_id) filter (where has_label) as n_both,
from tokens
inner join coded using (source_file)
inner join fct_association_units as units
    on units.grain = 'sign' and units.unit_key = tokens.sign_token_id
inner join inside using (sign_token_id)
left join with_feature using (sign_token_id)
group by inside.is_inside
"""


def sql_strata(db: Path, feature: str) -> dict[bool, tuple[int, int, int, int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(STRATA_SQL, {"label": LABEL, "feature": feature}).fetchall()
    finally:
        con.close()
    return {row[0]: tuple(row[1:]) for row in rows}


def test_stratified_counts_match_sql_and_known_numbers(sample_db: Path) -> None:
    data = load(sample_db, LABEL)
    every = Settings(resamples=20, **EVERY_PAIR)
    # Measured on the sample corpus (all five files code eye aperture).
    assert sql_strata(sample_db, FEATURE) == {True: (84, 1, 15, 0), False: (177, 19, 21, 5)}
    for context, inside in (("inside-grammar", True), ("outside-grammar", False)):
        part = stratum(data, context)
        rows = {r["feature"]: r for r in associate_units(part, every).to_pylist()}
        tables = two_by_two(part, list(data.features))
        for i, feature in enumerate(data.features):
            expected = sql_strata(sample_db, feature).get(inside, (0, 0, 0, 0))
            (a, b), (c, d) = tables[i]
            assert (a + b + c + d, a + b, a + c, a) == expected, (context, feature)
            if feature in rows:
                row = rows[feature]
                counts = (row["n_units"], row["n_label"], row["n_feature"], row["n_both"])
                assert counts == expected, (context, feature)
    whole = stratum(data, "all").units.num_rows
    assert stratum(data, "inside-grammar").units.num_rows == 84
    assert stratum(data, "outside-grammar").units.num_rows + 84 == whole


def test_mantel_haenszel_against_statsmodels_and_the_formula() -> None:
    # Two strata, [[a, b], [c, d]] each: label x feature.
    tables = np.array([[[12, 5], [30, 60]], [[4, 16], [10, 90]]], dtype=float).transpose(1, 2, 0)
    pooled = pooled_odds_ratio(tables)
    odds, low, high, bd = pooled.odds_ratio, pooled.ci_low, pooled.ci_high, pooled.breslow_day_p
    a, b, c, d = (tables[0, 0], tables[0, 1], tables[1, 0], tables[1, 1])
    n = tables.sum(axis=(0, 1))
    assert odds == pytest.approx(float((a * d / n).sum() / (b * c / n).sum()))
    assert odds == pytest.approx((12 * 60 / 107 + 4 * 90 / 120) / (5 * 30 / 107 + 16 * 10 / 120))
    reference = StratifiedTable(tables)
    assert (low, high) == pytest.approx(tuple(reference.oddsratio_pooled_confint()))
    assert bd == pytest.approx(reference.test_equal_odds().pvalue)
    assert bd is not None and 0 < bd < 1
    assert (pooled.n_informative, pooled.n_compared) == (2, 2)


def test_mantel_haenszel_drops_strata_without_information() -> None:
    informative = np.array([[[12, 5], [30, 60]]], dtype=float).transpose(1, 2, 0)
    no_label = np.array([[[0, 0], [30, 60]]], dtype=float).transpose(1, 2, 0)
    both = np.concatenate([informative, no_label], axis=2)
    pooled = pooled_odds_ratio(both)
    assert pooled.odds_ratio == pytest.approx(12 * 60 / (5 * 30))
    assert pooled.breslow_day_p is None  # one stratum left: nothing to compare
    assert pooled.n_informative == 1
    assert pooled_odds_ratio(no_label) == PooledOddsRatio(None, None, None, None, 0, 0)


def test_inside_outside_rows_use_the_strata(sample_db: Path) -> None:
    data = load(sample_db, LABEL)
    rows = inside_outside(data, [FEATURE], Settings(resamples=50)).to_pylist()
    (row,) = rows
    assert (row["n_both_inside"], row["n_label_inside"], row["n_units_inside"]) == (0, 1, 84)
    assert (row["n_both_outside"], row["n_label_outside"], row["n_units_outside"]) == (5, 19, 177)
    expected = pooled_odds_ratio(
        np.array([[[0, 1], [15, 68]], [[5, 14], [16, 142]]], dtype=float).transpose(1, 2, 0)
    )
    assert row["mh_odds_ratio"] == pytest.approx(expected.odds_ratio)
    # One label token inside: that stratum is not estimable, so no Breslow-Day p.
    assert not row["estimable_inside"] and row["odds_ratio_inside"] is None
    assert expected.breslow_day_p is not None and row["breslow_day_p"] is None
    assert row["or_ci_low_outside"] <= row["odds_ratio_outside"] <= row["or_ci_high_outside"]


def test_cli_top_context(sample_db: Path) -> None:
    result = runner.invoke(
        app, ["--db", str(sample_db), "top", LABEL, "--context", "outside-grammar", "--k", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "outside every grammatical marker" in result.stdout
    assert "Breslow-Day p" in result.stdout
    as_json = runner.invoke(
        app,
        ["--db", str(sample_db), "top", LABEL, "--context", "inside-grammar", "--format", "csv"],
    )
    assert as_json.exit_code == 0, as_json.output
    assert as_json.stdout.splitlines()[0].startswith("rank,feature,kind,role,n_both")
    frame = runner.invoke(
        app,
        ["--db", str(sample_db), "top", LABEL, "--context", "inside-grammar", "--grain", "frame"],
    )
    assert frame.exit_code == 2
    bad = runner.invoke(
        app, ["--db", str(sample_db), "top", "nope:x", "--context", "inside-grammar"]
    )
    assert bad.exit_code == 1
    assert "'nope:x' is unknown" in bad.stderr


def _haldane(n_both: int, n_label: int, n_feature: int, n_units: int) -> float:
    a, b, c = n_both, n_label - n_both, n_feature - n_both
    d = n_units - n_label - n_feature + n_both
    return (a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5))


def test_every_or_shown_is_the_or_of_its_counts(sample_db: Path) -> None:
    """Issue 23's inside-grammar OR (0.90 shown where the counts gave 2.25): an OR is the
    Haldane OR of the stratum's own 2x2 counts, or absent when the stratum is not
    estimable."""
    data = load(sample_db, LABEL)
    rows = inside_outside(data, list(data.features), Settings(resamples=20)).to_pylist()
    for row in rows:
        for key in ("inside", "outside"):
            counts = [row[f"n_{c}_{key}"] for c in ("both", "label", "feature", "units")]
            if row[f"estimable_{key}"]:
                assert row[f"odds_ratio_{key}"] == pytest.approx(_haldane(*counts))
            else:
                assert row[f"odds_ratio_{key}"] is None and row[f"or_ci_low_{key}"] is None
                assert min(counts[1:3]) < MIN_FEATURE_TOKENS or counts[1] == counts[3]
        if not (row["estimable_inside"] and row["estimable_outside"]):
            assert row["breslow_day_p"] is None


def test_by_marker_strata_partition_the_tokens(sample_db: Path) -> None:
    data = load(sample_db, LABEL)
    features = list(data.features)[:6]
    split = by_marker(data, features, Settings(resamples=20))
    strata = split.strata.to_pylist()
    names = marker_strata(data)
    for feature in features:
        mine = [r for r in strata if r["feature"] == feature]
        assert {r["stratum"] for r in mine} == set(names)
        (table,) = two_by_two(data, [feature])
        assert sum(r["n_label"] for r in mine) == table[0].sum()
        assert sum(r["n_units"] for r in mine) == table.sum()
        for r in mine:
            assert r["estimable"] == (
                r["n_feature"] >= MIN_FEATURE_TOKENS
                and MIN_FEATURE_TOKENS <= r["n_label"] < r["n_units"]
            )
            if r["estimable"]:
                assert r["odds_ratio"] == pytest.approx(
                    _haldane(r["n_both"], r["n_label"], r["n_feature"], r["n_units"])
                )
            else:
                assert r["odds_ratio"] is None
    for pooled in split.pooled.to_pylist():
        mine = [r for r in strata if r["feature"] == pooled["feature"]]
        compared = [r for r in mine if r["estimable"]]
        if pooled["breslow_day_p"] is None:
            continue
        assert pooled["breslow_day_strata"].split(", ") == [r["stratum"] for r in compared]
        tables = np.array(
            [
                [[r["n_both"], r["n_label"] - r["n_both"]],
                 [r["n_feature"] - r["n_both"],
                  r["n_units"] - r["n_label"] - r["n_feature"] + r["n_both"]]]
                for r in compared
            ],
            dtype=float,
        ).transpose(1, 2, 0)  # fmt: skip
        expected = StratifiedTable(tables).test_equal_odds().pvalue
        assert pooled["breslow_day_p"] == pytest.approx(expected)


def test_cli_top_context_by_one_marker(sample_db: Path) -> None:
    result = runner.invoke(
        app, ["--db", str(sample_db), "top", LABEL, "--context", "negative", "--k", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "inside the 'negative' marker" in result.stdout
    assert "marker by marker" in result.stdout and "not estimable" in result.stdout
    wrong = runner.invoke(app, ["--db", str(sample_db), "top", LABEL, "--context", "nope"])
    assert wrong.exit_code == 1 and "wh question" in wrong.output


def test_top_help_explains_roles_the_comparison_set_and_the_review() -> None:
    result = runner.invoke(app, ["top", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for phrase in ("face (facial and head codes", "eligible comparison set", "label_review",
                   "--role"):  # fmt: skip
        assert phrase in text, phrase


def test_cli_labels_shows_each_gloss_and_what_the_rules_removed(sample_db: Path) -> None:
    result = runner.invoke(app, ["--db", str(sample_db), "labels", LABEL, "--format", "csv"])
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split(",")
    assert header[:5] == ["gloss", "label_source", "n_tokens", "n_utterances", "n_negated"]
    assert "review_decision" in header and "n_labelled" in header
    assert "sign tokens whose gloss gives the label" in result.stderr
    unknown = runner.invoke(app, ["--db", str(sample_db), "labels", "empath:nothing"])
    assert unknown.exit_code == 1 and "no sign gives the label" in unknown.output
