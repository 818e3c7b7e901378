"""fct_label_feature_associations on the real NCSLGR corpus: counts against the grain marts,
one pair's interval and p-value against a slow loop, the ranking, and `top`.

The session warehouse is built with `TEST_DBT_VARS` (200 resamples, seed 42): the slow
loop replays the engine's documented draws with the same settings, so the mart's numbers
must match it exactly.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pytest

from signaffect.core.warehouse import connect
from signaffect.read.associations import top_features
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
            inner join int_association_units as u
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
        inner join int_association_units as units
            on units.grain = 'utterance'
            and units.unit_key = u.source_file || '/' || u.utterance_id
        """,
        LABEL,
        FEATURE,
    )


def _odds_ratio(n: int, nl: int, nf: int, a: int) -> float:
    return (a + 0.5) * (n - nl - nf + a + 0.5) / ((nl - a + 0.5) * (nf - a + 0.5))


def test_one_pair_matches_a_slow_bootstrap_and_permutation(con) -> None:
    """Sign grain, story clusters: recount every replicate token by token."""
    tokens = con.execute(
        """
        select u.cluster_key, u.block_key, list_contains(u.labels, $label),
            list_contains(u.features, $feature), c.feature is not null
        from int_association_units as u
        left join fct_feature_coverage as c
            on c.source_file = u.source_file and c.feature = $feature
        where u.grain = 'sign'
        order by u.cluster_key, u.block_key
        """,
        {"label": LABEL, "feature": FEATURE},
    ).fetchall()
    stories = sorted({t[0] for t in tokens})
    by_story: dict[str, list[tuple]] = {s: [] for s in stories}
    for token in tokens:
        by_story[token[0]].append(token)

    def table(labels: list[bool], members: list[int]) -> tuple[int, int, int, int]:
        n = nl = nf = a = 0
        for i in members:
            _, _, _, has_feature, coded = tokens[i]
            if coded:
                n, nl, nf, a = (
                    n + 1,
                    nl + labels[i],
                    nf + has_feature,
                    a + (labels[i] and has_feature),
                )
        return n, nl, nf, a

    resamples, seed = TEST_DBT_VARS["association_resamples"], 42
    boot_seq, perm_seq = np.random.SeedSequence(seed).spawn(2)
    index = {s: [i for i, t in enumerate(tokens) if t[0] == s] for s in stories}
    labels = [t[2] for t in tokens]
    picks = np.random.default_rng(boot_seq).integers(0, len(stories), (resamples, len(stories)))
    ratios, lifts = [], []
    for r in range(resamples):
        members = [i for j in picks[r] for i in index[stories[j]]]
        n, nl, nf, a = table(labels, members)
        if nl and nf:
            ratios.append(_odds_ratio(n, nl, nf, a))
            lifts.append(a * n / (nl * nf))
    everyone = list(range(len(tokens)))
    observed = abs(math.log(_odds_ratio(*table(labels, everyone))))
    cluster_rank = np.array([stories.index(t[0]) for t in tokens])
    rng = np.random.default_rng(perm_seq)
    extreme = 1
    for _ in range(resamples):
        order = np.argsort(cluster_rank + rng.random(len(tokens)))
        moved = [False] * len(tokens)
        for i in range(len(tokens)):
            moved[order[i]] = labels[i]
        statistic = abs(math.log(_odds_ratio(*table(moved, everyone))))
        extreme += statistic >= observed * (1 - 1e-9)

    row = _pair(con, "sign", LABEL, FEATURE)
    assert row["n_resamples"] == resamples and row["n_clusters"] == len(stories)
    assert row["or_ci_low"] == pytest.approx(np.quantile(ratios, 0.025), rel=1e-9)
    assert row["or_ci_high"] == pytest.approx(np.quantile(ratios, 0.975), rel=1e-9)
    assert row["lift_ci_low"] == pytest.approx(np.quantile(lifts, 0.025), rel=1e-9)
    assert row["p_value"] == pytest.approx(extreme / (resamples + 1))


def test_rank_is_the_lower_ci_bound_within_grain_label_and_family(con) -> None:
    wrong = con.execute(
        """
        select count(*) from (
            select rank, row_number() over (
                partition by grain, label, feature_family
                order by or_ci_low desc, n_both desc, feature
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
        lows = [r["or_ci_low"] for r in rows]
        assert lows == sorted(lows, reverse=True)
        assert "45 carry the label" in result.caption  # 161 before the label rules
        assert "8,241 eligible sign tokens" in result.caption and "11,864" in result.caption
