"""fct_label_feature_associations on the real NCSLGR corpus: counts against the grain marts,
one pair's MH odds ratio, exact p and interval against statsmodels and scipy, the one-sign
mark of LOVE x bite lower lip, one criterion for chance, the ranking, and `top`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy.stats import hypergeom, nchypergeom_fisher
from statsmodels.stats.contingency_tables import StratifiedTable

from read.associations import top_features
from signaffect.core.warehouse import connect
from tests.conftest import TEST_DBT_VARS

LABEL, FEATURE = "empath:negative_emotion", "POS=Adjective"


@pytest.fixture(scope="module")
def con(corpus_db: Path):
    # The app's own settings: DuckDB refuses a second connection to a file with others.
    connection = connect(corpus_db, read_only=True)
    connection.execute("set search_path = 'main,intermediate'")
    yield connection
    connection.close()


def _pair(con: duckdb.DuckDBPyConnection, grain: str, label: str, feature: str) -> dict:
    rows = con.execute(
        "select * from fct_label_feature_associations "
        "where grain = $grain and label = $label and feature = $feature",
        {"grain": grain, "label": label, "feature": feature},
    )
    names = [d[0] for d in rows.description or []]
    found = rows.fetchall()
    assert len(found) == 1, (grain, label, feature)
    return dict(zip(names, found[0], strict=True))


def _check_counts(
    con: duckdb.DuckDBPyConnection, grain: str, units: str, label: str, feature: str
) -> dict:
    """The mart's (n_units, n_label, n_feature, n_both) for the pair equal the counts over
    `units`, a query of has_label, has_feature; returns the mart's row."""
    expected = con.execute(
        f"""
        select count(*), count(*) filter (where has_label), count(*) filter (where has_feature),
            count(*) filter (where has_label and has_feature)
        from ({units})
        """,
        {"label": label, "feature": feature},
    ).fetchall()[0]
    row = _pair(con, grain, label, feature)
    assert (row["n_units"], row["n_label"], row["n_feature"], row["n_both"]) == expected
    return row


def test_sign_grain_counts_match_the_token_marts(con) -> None:
    """n_units etc. recounted from fct_sign_tokens, fct_sign_token_features and coverage,
    over the eligible comparison set (tokens whose gloss gives a looked-up word)."""
    pairs = (
        (LABEL, FEATURE),
        ("empath:negative_emotion", "eye gaze=to addressee"),
        ("empath:positive_emotion", "head pos: jut=back"),
    )
    for label, feature in pairs:
        row = _check_counts(
            con,
            "sign",
            """
            select
                list_contains(t.lexical_labels, $label) as has_label,
                exists (
                    select 1 from fct_sign_token_features as f
                    where f.sign_token_id = t.sign_token_id and f.feature = $feature
                ) as has_feature,
            from fct_sign_tokens as t
            inner join fct_feature_coverage as c
                on c.source_file = t.source_file and c.feature = $feature
            inner join fct_association_units as u
                on u.grain = 'sign' and u.unit_key = t.sign_token_id
            """,
            label,
            feature,
        )
        compared = con.execute(
            "select n_units_compared from fct_association_comparison_sets where grain = 'sign'"
        ).fetchall()[0][0]
        if feature == "eye gaze=to addressee":
            assert row["n_units"] == compared  # eye gaze is coded in every file


def test_utterance_grain_counts_match_the_utterance_mart(con) -> None:
    _check_counts(
        con,
        "utterance",
        """
        select
            exists (select 1 from fct_utterance_features as f
                where f.source_file = u.source_file and f.utterance_id = u.utterance_id
                and f.feature = $label) as has_label,
            exists (select 1 from fct_utterance_features as f
                where f.source_file = u.source_file and f.utterance_id = u.utterance_id
                and f.feature = $feature) as has_feature,
        from dim_utterances as u
        inner join fct_feature_coverage as c
            on c.source_file = u.source_file and c.feature = $feature
        inner join fct_association_units as units
            on units.grain = 'utterance'
            and units.unit_key = u.source_file || '/' || u.utterance_id
        """,
        LABEL,
        FEATURE,
    )


def _story_tables(con: duckdb.DuckDBPyConnection, label: str, feature: str) -> np.ndarray:
    """2 x 2 x story counts of the sign tokens in files coding `feature`, token by token."""
    tokens = con.execute(
        """
        select u.cluster_key, list_contains(u.labels, $label), list_contains(u.features, $feature)
        from fct_association_units as u
        inner join fct_feature_coverage as c
            on c.source_file = u.source_file and c.feature = $feature
        where u.grain = 'sign'
        """,
        {"label": label, "feature": feature},
    ).fetchall()
    stories = sorted({t[0] for t in tokens})
    tables = np.zeros((2, 2, len(stories)))
    for story, has_label, has_feature in tokens:
        tables[1 - has_label, 1 - has_feature, stories.index(story)] += 1
    return tables


def _null(tables: np.ndarray, psi: float = 1.0) -> tuple[np.ndarray, int]:
    """P(T = t) for every t under odds ratio psi: scipy's (noncentral) hypergeometric pmf
    per story, multiplied out story by story; and the observed T."""
    total = np.ones(1)
    for k in range(tables.shape[2]):
        (a, b), (c, d) = tables[:, :, k]
        m, t, n = int(a + b), int(a + c), int(a + b + c + d)
        support = np.arange(max(0, m + t - n), min(m, t) + 1)
        pmf = np.zeros(min(m, t) + 1)
        pmf[support] = (
            hypergeom.pmf(support, n, t, m)
            if psi == 1.0
            else nchypergeom_fisher.pmf(support, n, t, m, psi)
        )
        total = np.convolve(total, pmf)
    return total, int(tables[0, 0].sum())


def _mid_p_tails(tables: np.ndarray, psi: float = 1.0) -> tuple[float, float]:
    pmf, observed = _null(tables, psi)
    half = pmf[observed] / 2
    return pmf[:observed].sum() + half, pmf[observed + 1 :].sum() + half


def test_one_pair_matches_statsmodels_and_an_independent_exact_test(con) -> None:
    """Sign grain, story strata: the MH OR is statsmodels', the mid-p and the interval's
    bounds follow from scipy's hypergeometric distributions multiplied out story by story."""
    tables = _story_tables(con, LABEL, FEATURE)
    row = _pair(con, "sign", LABEL, FEATURE)
    assert row["n_both"] == tables[0, 0].sum() and row["n_label"] == tables[0].sum()
    informative = tables.sum(axis=(0, 1)) > 0
    expected = StratifiedTable(tables[:, :, informative]).oddsratio_pooled
    assert row["odds_ratio"] == pytest.approx(expected, rel=1e-9)
    below, above = _mid_p_tails(tables)
    assert row["p_value"] == pytest.approx(min(1.0, 2 * min(below, above)), rel=1e-6)
    assert _mid_p_tails(tables, row["or_ci_low"])[1] == pytest.approx(0.025, abs=1e-6)
    assert _mid_p_tails(tables, row["or_ci_high"])[0] == pytest.approx(0.025, abs=1e-6)
    assert row["or_ci_method"] == "exact conditional (mid-p)"
    assert row["n_resamples"] == TEST_DBT_VARS["association_resamples"]


def test_love_and_bite_lower_lip_rests_on_one_sign(con) -> None:
    """All of `mouth=bite lower lip`'s co-occurrences with the love labels are the sign LOVE."""
    rows = con.execute(
        "select label, n_both, n_glosses_both, top_gloss, top_gloss_share, one_sign, rank, "
        "max(rank) over (partition by label) as last "
        "from fct_label_feature_associations where grain = 'sign' "
        "and feature = 'mouth=bite lower lip' and label like 'empath:%'"
    ).fetchall()
    assert rows, "no sign-grain row of mouth=bite lower lip"
    for label, _, n_glosses, top, share, one_sign, _, _ in rows:
        assert (n_glosses, top, share, one_sign) == (1, "LOVE", 1.0, True), label
    assert {r[0] for r in rows} >= {"empath:love", "empath:positive_emotion"}
    ranked_after = con.execute(
        "select count(*) from fct_label_feature_associations as a "
        "where grain = 'sign' and label = 'empath:positive_emotion' "
        "and feature_family = 'signstream' and not one_sign and rank > ("
        "  select rank from fct_label_feature_associations where grain = 'sign' "
        "  and label = 'empath:positive_emotion' and feature = 'mouth=bite lower lip')"
    ).fetchall()[0][0]
    assert ranked_after == 0


def test_sign_grain_q_is_within_families_and_the_chance_note_agrees(con) -> None:
    wrong = con.execute(
        """
        select count(*) from fct_label_feature_associations
        where grain <> 'frame' and (
            ci_excludes_one <> (p_value < 0.05) or beats_chance <> (q_value < 0.05)
        )
        """
    ).fetchall()[0][0]
    assert wrong == 0
    pooled = con.execute(
        "select count(*) from (select grain, test_family, count(distinct feature_family) as n "
        "from fct_label_feature_associations group by all) where n > 1"
    ).fetchall()[0][0]
    assert pooled == 0


def test_rank_is_the_lower_ci_bound_within_grain_label_and_family(con) -> None:
    wrong = con.execute(
        """
        select count(*) from (
            select rank, row_number() over (
                partition by grain, label, feature_family
                order by one_sign, or_ci_low desc, n_both desc, feature
            ) as expected
            from fct_label_feature_associations
        ) where rank <> expected
        """
    ).fetchall()[0][0]
    assert wrong == 0
    families = con.execute(
        "select distinct feature_family from fct_label_feature_associations order by 1"
    ).fetchall()
    assert families == [("au",), ("signstream",)]


def test_top_on_the_corpus_lists_one_family_with_base_rates(corpus_db: Path) -> None:
    for family, kinds in (
        ("signstream", {"facial", "head"}),
        ("au", {"au"}),
    ):
        result = top_features(corpus_db, "empath:negative_emotion", family=family)
        rows = result.table.to_pylist()
        assert len(rows) == 10 and {r["kind"] for r in rows} <= kinds
        assert all(0 < r["p_feature"] < 1 and r["n_both"] >= 5 for r in rows)
        lows = [r["or_ci_low"] for r in rows if "one sign" not in r["note"]]
        assert lows == sorted(lows, reverse=True)
        assert "45 of 8,241 carry the label" in result.caption  # 161 before the label rules
        assert "8,241 eligible sign tokens" in result.caption and "11,864" in result.caption
