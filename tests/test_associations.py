"""FACS action units and the association mart: statistics against scipy, BH q-values, `top`.

Three layers: a hand-made warehouse (fixture tables fct_frames / fct_frame_features /
dim_features, then `dbt run -s fct_feature_cooccurrence` on it), so every pair can be checked
against scipy; the real NCSLGR corpus (session fixture `corpus_db`), for the AU mapping and
the mart's invariants at scale; and the `top` library call and CLI command.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from scipy.special import erfc
from scipy.stats import chi2, chi2_contingency, false_discovery_control
from typer.testing import CliRunner

import cli
from read.associations import CHANCE, top_features
from signaffect.core.dbt_runner import run_dbt
from signaffect.core.errors import SignAffectError

N_FRAMES_PER_UTTERANCE = 200
FIXTURE_FEATURES = {
    # feature: (kind, probability of being active in a frame)
    "eye brows=raised": ("facial", 0.30),
    "eye brows=lowered": ("facial", 0.20),
    "head mvmt: nod=slow": ("head", 0.10),
    "AU4 brow lowerer": ("au", 0.25),
    "empath:confusion": ("lexical", 0.08),
    "empath:negative_emotion": ("lexical", 0.05),
    "POS=Verb": ("pos", 0.40),
    "main gloss=WHO": ("gloss", 0.50),  # gloss is not a paired kind by default
    "wh question=whq": ("grammatical", 0.02),  # ~8 frames: below min_frames, never paired
}
MIN_FRAMES = 10


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    return con.sql(sql).to_arrow_table().to_pylist()


def _table_stats(n_ab: int, n_a: int, n_b: int, n_total: int) -> tuple[float, float]:
    """G² and its chi-square(1) p-value from scipy, for the 2x2 table of a pair."""
    table = np.array([[n_ab, n_a - n_ab], [n_b - n_ab, n_total - n_a - n_b + n_ab]])
    g2 = chi2_contingency(table, correction=False, lambda_="log-likelihood")[0]
    return float(g2), float(chi2.sf(g2, 1))


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[int]]]:
    """A warehouse of random features on 3 utterances x 200 frames, and the mart built on it."""
    rng = np.random.default_rng(20240607)
    frames = [(f"story{u}.xml", u, f) for u in range(3) for f in range(N_FRAMES_PER_UTTERANCE)]
    active: dict[str, set[int]] = {
        feature: {int(i) for i in np.flatnonzero(rng.random(len(frames)) < prob)}
        for feature, (_, prob) in FIXTURE_FEATURES.items()
    }
    # Make a strong association and a subset (a zero cell) on purpose.
    raised = sorted(active["eye brows=raised"])
    active["AU4 brow lowerer"] -= set(raised[: len(raised) // 2])
    active["empath:confusion"] |= set(raised[:30])
    active["empath:negative_emotion"] = set(sorted(active["AU4 brow lowerer"])[:25])
    feature_rows = [
        (*frames[i], feature, FIXTURE_FEATURES[feature][0])
        for feature, on in active.items()
        for i in sorted(on)
    ]

    db = tmp_path_factory.mktemp("associations") / "fixture.duckdb"
    con = duckdb.connect(str(db))
    try:
        frame_table = pa.table(
            {
                "source_file": [f[0] for f in frames],
                "utterance_id": [f[1] for f in frames],
                "frame_index": [f[2] for f in frames],
            }
        )
        ff_table = pa.table(
            {
                "source_file": [r[0] for r in feature_rows],
                "utterance_id": [r[1] for r in feature_rows],
                "frame_index": [r[2] for r in feature_rows],
                "feature": [r[3] for r in feature_rows],
                "feature_kind": [r[4] for r in feature_rows],
            }
        )
        con.register("frame_table", frame_table)
        con.register("ff_table", ff_table)
        con.execute("create table fct_frames as select * from frame_table")
        con.execute("create table fct_frame_features as select * from ff_table")
        con.execute(
            "create table dim_features as select feature, any_value(feature_kind) as "
            "feature_kind, count(*) as n_frames from fct_frame_features group by feature"
        )
    finally:
        con.close()
    run_dbt("run", db, extra_args=["--select", "fct_feature_cooccurrence"])
    return db, active


@pytest.fixture(scope="module")
def fixture_pairs(fixture_db: tuple[Path, dict[str, set[int]]]) -> list[dict]:
    db, _ = fixture_db
    con = duckdb.connect(str(db), read_only=True)
    try:
        return _rows(con, "select * from fct_feature_cooccurrence")
    finally:
        con.close()


# ----- statistics on the hand-made warehouse ---------------------------------------------


def test_pairs_are_exactly_those_sharing_min_frames(fixture_db, fixture_pairs) -> None:
    _, active = fixture_db
    paired_kinds = {"facial", "head", "grammatical", "pos", "lexical", "au"}
    expected = {
        (a, b)
        for a in active
        for b in active
        if a != b
        and FIXTURE_FEATURES[a][0] in paired_kinds
        and FIXTURE_FEATURES[b][0] in paired_kinds
        and len(active[a] & active[b]) >= MIN_FRAMES
    }
    got = {(row["feature_a"], row["feature_b"]) for row in fixture_pairs}
    assert got == expected
    assert not any("main gloss=WHO" in pair for pair in got)
    assert not any("wh question=whq" in pair for pair in got)


def test_counts_and_probabilities(fixture_db, fixture_pairs) -> None:
    _, active = fixture_db
    n_total = 3 * N_FRAMES_PER_UTTERANCE
    for row in fixture_pairs:
        a, b = active[row["feature_a"]], active[row["feature_b"]]
        n_ab = len(a & b)
        assert (row["n_a"], row["n_b"], row["n_ab"], row["n_total"]) == (
            len(a),
            len(b),
            n_ab,
            n_total,
        )
        assert row["p_a_given_b"] == pytest.approx(n_ab / len(b), rel=1e-12)
        assert row["p_b_given_a"] == pytest.approx(n_ab / len(a), rel=1e-12)
        lift = n_ab * n_total / (len(a) * len(b))
        assert row["lift"] == pytest.approx(lift, rel=1e-12)
        assert row["pmi"] == pytest.approx(math.log2(lift), rel=1e-12, abs=1e-12)
        assert row["npmi"] == pytest.approx(
            math.log2(lift) / -math.log2(n_ab / n_total), rel=1e-12, abs=1e-12
        )


def test_g2_and_p_value_match_scipy(fixture_pairs) -> None:
    for row in fixture_pairs:
        g2, p = _table_stats(row["n_ab"], row["n_a"], row["n_b"], row["n_total"])
        assert row["g2_frames"] == pytest.approx(g2, rel=1e-10, abs=1e-10)
        # erfcc: fractional error < 1.2e-7 (Numerical Recipes).
        assert row["p_value_frames"] == pytest.approx(p, rel=1.2e-7, abs=1e-300)


def test_fixture_has_a_zero_cell_pair(fixture_pairs) -> None:
    """The pair built as a subset has an empty cell: 0·ln 0 = 0 must not give NaN."""
    subset = [
        r
        for r in fixture_pairs
        if r["feature_a"] == "empath:negative_emotion" and r["feature_b"] == "AU4 brow lowerer"
    ]
    assert subset and subset[0]["n_ab"] == subset[0]["n_a"]
    assert math.isfinite(subset[0]["g2_frames"]) and subset[0]["g2_frames"] > 0


def test_q_values_match_scipy_benjamini_hochberg(fixture_pairs) -> None:
    unordered = [r for r in fixture_pairs if r["feature_a"] < r["feature_b"]]
    p = np.array([r["p_value_frames"] for r in unordered])
    q = np.array([r["q_value_frames"] for r in unordered])
    np.testing.assert_allclose(q, false_discovery_control(p), rtol=1e-12, atol=1e-300)
    # Counting each test once or both of its rows gives the same q-values.
    p_all = np.array([r["p_value_frames"] for r in fixture_pairs])
    q_all = np.array([r["q_value_frames"] for r in fixture_pairs])
    np.testing.assert_allclose(q_all, false_discovery_control(p_all), rtol=1e-12, atol=1e-300)


def test_rows_of_a_pair_mirror_each_other(fixture_pairs) -> None:
    by_pair = {(r["feature_a"], r["feature_b"]): r for r in fixture_pairs}
    for (a, b), row in by_pair.items():
        other = by_pair[(b, a)]
        assert (row["n_a"], row["n_b"]) == (other["n_b"], other["n_a"])
        assert row["p_a_given_b"] == other["p_b_given_a"]
        assert (row["g2_frames"], row["p_value_frames"], row["q_value_frames"]) == (
            other["g2_frames"],
            other["p_value_frames"],
            other["q_value_frames"],
        )


# ----- top: library and CLI, on a hand-made fct_label_feature_associations ---------------

#: (grain, label, feature, family, n_both, odds_ratio, or_ci_low, or_ci_high, q_value)
MART_ROWS = [
    ("sign", "empath:confusion", "POS=Wh-word", "signstream", 50, 40.0, 20.0, 90.0, 0.01),
    ("sign", "empath:confusion", "eye brows=raised", "signstream", 40, 2.5, 1.3, 5.0, 0.02),
    ("sign", "empath:confusion", "eye gaze=up", "signstream", 6, 9.0, 0.8, 30.0, 0.3),
    ("sign", "empath:confusion", "eye brows=lowered", "signstream", 30, 0.7, 0.4, 1.1, 0.5),
    ("sign", "empath:confusion", "mouth=bite lower lip", "signstream", 6, 50.0, 25.0, 99.0, 0.01),
    ("sign", "empath:confusion", "AU5 upper lid raiser", "au", 42, 3.3, 1.5, 7.6, 0.02),
    ("frame", "empath:confusion", "POS=Wh-word", "signstream", 500, 30.0, 10.0, 60.0, None),
]
#: The row whose co-occurrences are all one gloss.
ONE_SIGN_FEATURE = "mouth=bite lower lip"


@pytest.fixture(scope="module")
def mart_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding only dim_features and a small fct_label_feature_associations
    (ranked as the mart ranks), with the rankings view dbt builds over it."""
    db = tmp_path_factory.mktemp("top") / "mart.duckdb"
    n_label, n_units, n_feature = 100, 10_000, 400
    rows = [
        {
            "grain": grain,
            "label": label,
            "feature": feature,
            "feature_kind": "au" if family == "au" else "facial",
            "feature_family": family,
            "feature_role": "face",
            "n_units": n_units,
            "n_label": n_label,
            "n_feature": n_feature,
            "n_both": both,
            "p_feature": n_feature / n_units,
            "p_feature_given_label": both / n_label,
            "lift": (both / n_label) / (n_feature / n_units),
            "pmi": math.log2((both / n_label) / (n_feature / n_units)),
            "odds_ratio": odds,
            "or_ci_low": low,
            "or_ci_high": high,
            "log_or_ci_low": math.log(low),
            "q_value": q,
            "ci_excludes_one": low > 1 or high < 1,
            "beats_chance": (low > 1 or high < 1) if q is None else q < 0.05,
            "cluster_unit": "story",
            "n_clusters": 38,
            "n_resamples": 10_000,
            "n_label_all": 120,
            "n_units_all": 12_000,
            "or_ci_method": "exact conditional (mid-p)" if q is not None else "story bootstrap",
            "n_glosses_both": 1 if feature == ONE_SIGN_FEATURE else 3,
            "top_gloss": "LOVE" if feature == ONE_SIGN_FEATURE else "WHO",
            "top_gloss_share": 1.0 if feature == ONE_SIGN_FEATURE else 0.5,
            "top_gloss_n_both": both if feature == ONE_SIGN_FEATURE else both // 2,
            "or_without_top_gloss": None if feature == ONE_SIGN_FEATURE else odds,
            "or_without_top_gloss_ci_low": None if feature == ONE_SIGN_FEATURE else low,
            "or_without_top_gloss_ci_high": None if feature == ONE_SIGN_FEATURE else high,
            "one_sign": feature == ONE_SIGN_FEATURE,
        }
        for grain, label, feature, family, both, odds, low, high, q in MART_ROWS
    ]
    con = duckdb.connect(str(db))
    try:
        con.register("mart_rows", pa.Table.from_pylist(rows))
        con.execute(
            "create table fct_label_feature_associations as select *, row_number() over ("
            "partition by grain, label, feature_family "
            "order by one_sign, log_or_ci_low desc nulls last, n_both desc, feature) as rank "
            "from mart_rows"
        )
        con.execute(
            "create table dim_features as select 'empath:confusion' as feature, "
            "'lexical' as feature_kind, 1200 as n_frames union all "
            "select 'main gloss=WHO', 'gloss', 50"
        )
    finally:
        con.close()
    run_dbt("run", db, extra_args=["--select", "fct_label_feature_rankings"])
    return db


def test_top_ranks_by_the_lower_ci_bound_and_marks_chance(mart_db) -> None:
    result = top_features(mart_db, "empath:confusion")
    table = result.table.to_pylist()
    assert [r["feature"] for r in table] == [
        "POS=Wh-word",
        "eye brows=raised",
        "eye gaze=up",
        "eye brows=lowered",
        ONE_SIGN_FEATURE,
    ]
    assert [r["rank"] for r in table] == [1, 2, 3, 4, 5]
    assert [r["note"] for r in table] == ["", "", CHANCE, CHANCE, "one sign (LOVE 6 of 6)"]
    assert result.table.column_names[:2] == ["rank", "feature"]
    for column in (
        "p_feature",
        "p_feature_given_label",
        "n_both",
        "n_label",
        "n_units",
        "or_ci_low",
        "or_ci_high",
        "q_value",
    ):
        assert column in result.table.column_names
    assert "sign grain" in result.caption and "Mantel-Haenszel over 38 story" in result.caption
    assert "exact conditional (mid-p)" in result.caption
    assert "120 of 12,000 carry the label" in result.caption


def test_top_other_orders_grains_families_and_support(mart_db) -> None:
    by_p = top_features(mart_db, "empath:confusion", by="p", k=2).table
    assert by_p.column("feature").to_pylist() == ["POS=Wh-word", "eye brows=raised"]
    by_lift = top_features(mart_db, "empath:confusion", by="lift").table
    assert by_lift.column("feature").to_pylist()[0] == "POS=Wh-word"
    au = top_features(mart_db, "empath:confusion", family="au").table
    assert au.column("feature").to_pylist() == ["AU5 upper lid raiser"]
    frame = top_features(mart_db, "empath:confusion", grain="frame")
    assert frame.table.column("n_both").to_pylist() == [500]
    assert "frame grain" in frame.caption and "video frames" in frame.caption
    assert "No test at frame grain" in frame.caption
    supported = top_features(mart_db, "empath:confusion", min_support=35).table
    assert supported.column("feature").to_pylist() == ["POS=Wh-word", "eye brows=raised"]


def test_top_unknown_label_suggests_close_names(mart_db) -> None:
    with pytest.raises(SignAffectError) as info:
        top_features(mart_db, "empath:confuson")
    assert "unknown label" in info.value.message
    assert "empath:confusion" in (info.value.hint or "")
    with pytest.raises(SignAffectError, match="no tested pairs"):
        top_features(mart_db, "main gloss=WHO")
    with pytest.raises(SignAffectError, match="no tested pairs at utterance grain"):
        top_features(mart_db, "empath:confusion", grain="utterance")
    with pytest.raises(SignAffectError, match="family"):
        top_features(mart_db, "empath:confusion", family="faces")
    with pytest.raises(SignAffectError, match="rank by"):
        top_features(mart_db, "empath:confusion", by="chi")


def test_cli_top(mart_db) -> None:
    runner = CliRunner()
    db = str(mart_db)
    ok = runner.invoke(
        cli.app, ["--db", db, "top", "empath:confusion", "--k", "2", "--format", "csv"]
    )
    assert ok.exit_code == 0, ok.output
    lines = ok.stdout.strip().splitlines()
    assert lines[0].startswith("rank,feature,kind,role,n_both,n_label,n_feature,n_units,p_feature,")
    assert len(lines) == 3
    assert "sign grain" in ok.stderr
    table = runner.invoke(
        cli.app, ["--db", db, "top", "empath:confusion", "--family", "au", "--grain", "sign"]
    )
    assert table.exit_code == 0
    assert "top 1 face au features at sign grain" in table.stdout
    assert "AU5" in table.stdout
    chance = runner.invoke(cli.app, ["--db", db, "top", "empath:confusion", "--by", "lift"])
    assert chance.exit_code == 0 and "not distinguishable" in chance.stdout
    bad = runner.invoke(cli.app, ["--db", db, "top", "empath:confuson"])
    assert bad.exit_code == 1
    assert "unknown label" in bad.stderr and "empath:confusion" in bad.stderr
    for usage in (["--by", "chi"], ["--family", "both"], ["--grain", "story"]):
        assert runner.invoke(cli.app, ["--db", db, "top", "x", *usage]).exit_code == 2
    assert "exact" in runner.invoke(cli.app, ["top", "--help"]).stdout


# ----- the real corpus -------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_con(corpus_db: Path):
    con = duckdb.connect(str(corpus_db), read_only=True)
    con.execute("set search_path = 'main,intermediate'")
    yield con
    con.close()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchall()[0][0]


@pytest.mark.corpus
def test_every_mapped_feature_frame_has_its_action_units(corpus_con) -> None:
    """Each frame with a mapped facial/head feature has a row for each of its AUs, and back."""
    missing = _scalar(
        corpus_con,
        """
        select count(*) from fct_frame_features as sf
        inner join facs_action_units as m on sf.feature = m.feature and m.au_code is not null
        anti join fct_frame_features as au
            on au.feature_kind = 'au'
            and au.source_file = sf.source_file and au.utterance_id = sf.utterance_id
            and au.frame_index = sf.frame_index and au.feature = m.au_feature
        where sf.feature_kind in ('facial', 'head')
        """,
    )
    assert missing == 0
    unbacked = _scalar(
        corpus_con,
        """
        select count(*) from fct_frame_features as au
        anti join (
            select sf.source_file, sf.utterance_id, sf.frame_index, m.au_feature
            from fct_frame_features as sf
            inner join facs_action_units as m on sf.feature = m.feature
        ) as src
            on au.source_file = src.source_file and au.utterance_id = src.utterance_id
            and au.frame_index = src.frame_index and au.feature = src.au_feature
        where au.feature_kind = 'au'
        """,
    )
    assert unbacked == 0
    mapped_in_corpus = _scalar(
        corpus_con,
        """
        select count(distinct m.au_code) from dim_features as d
        inner join facs_action_units as m on d.feature = m.feature and m.au_code is not null
        """,
    )
    assert (
        _scalar(corpus_con, "select count(*) from dim_features where feature_kind = 'au'")
        == mapped_in_corpus
        > 20
    )


@pytest.mark.corpus
def test_au_intensity_is_the_largest_of_its_sources(corpus_con) -> None:
    wrong = _scalar(
        corpus_con,
        """
        with sources as (
            select sf.source_file, sf.utterance_id, sf.frame_index, m.au_code,
                max(m.intensity) as intensity
            from fct_frame_features as sf
            inner join facs_action_units as m on sf.feature = m.feature
            where m.au_code is not null and sf.feature_kind <> 'au'
            group by all
        )
        select count(*) from fct_frame_features as au
        inner join sources using (source_file, utterance_id, frame_index)
        where au.feature_kind = 'au' and au.field_name = sources.au_code
            and au.value_name <> sources.intensity
        """,
    )
    assert wrong == 0
    raised = _scalar(
        corpus_con, "select action_units from dim_features where feature = 'eye brows=raised'"
    )
    assert raised == ["AU1+2"]


@pytest.mark.corpus
def test_corpus_cooccurrence_matches_a_naive_recount(corpus_con) -> None:
    """The pre-filtered integer self-join gives exactly the naive string self-join's counts."""
    naive = corpus_con.sql(
        """
        with ff as (
            select * from fct_frame_features
            where feature_kind in ('facial', 'head', 'grammatical', 'pos', 'lexical', 'au')
        )
        select a.feature as feature_a, b.feature as feature_b, count(*) as n_ab
        from ff as a inner join ff as b
            on a.source_file = b.source_file and a.utterance_id = b.utterance_id
            and a.frame_index = b.frame_index and a.feature <> b.feature
        group by all
        having count(*) >= 10
        """
    ).to_arrow_table()
    mart = corpus_con.sql(
        "select feature_a, feature_b, n_ab from fct_feature_cooccurrence"
    ).to_arrow_table()
    as_set = lambda t: set(zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True))  # noqa: E731
    assert as_set(mart) == as_set(naive)
    assert mart.num_rows > 10_000


@pytest.mark.corpus
def test_corpus_cooccurrence_invariants(corpus_con) -> None:
    n_frames = _scalar(corpus_con, "select count(*) from fct_frames")
    assert (
        _scalar(
            corpus_con, f"select count(*) from fct_feature_cooccurrence where n_total <> {n_frames}"
        )
        == 0
    )
    assert (
        _scalar(
            corpus_con,
            """
        select count(*) from fct_feature_cooccurrence as c
        inner join dim_features as d on c.feature_a = d.feature
        where c.n_a <> d.n_frames or c.kind_a <> d.feature_kind
        """,
        )
        == 0
    )
    assert (
        _scalar(
            corpus_con,
            """
        select count(*) from fct_feature_cooccurrence
        where kind_a not in ('facial', 'head', 'grammatical', 'pos', 'lexical', 'au')
            or kind_b not in ('facial', 'head', 'grammatical', 'pos', 'lexical', 'au')
            or n_ab < 10 or n_ab > least(n_a, n_b) or q_value_frames < p_value_frames
        """,
        )
        == 0
    )
    rows = corpus_con.sql(
        "select g2_frames, p_value_frames, q_value_frames from fct_feature_cooccurrence "
        "where feature_a < feature_b"
    ).to_arrow_table()
    g2 = np.array(rows.column("g2_frames").to_pylist())
    p = np.array(rows.column("p_value_frames").to_pylist())
    exact = chi2.sf(g2, 1)
    np.testing.assert_allclose(p, exact, rtol=1.2e-7, atol=1e-300)
    np.testing.assert_allclose(
        np.array(rows.column("q_value_frames").to_pylist()),
        false_discovery_control(p),
        rtol=1e-9,
        atol=1e-300,
    )


def test_erfc_macro_accuracy_over_its_range(fixture_db, monkeypatch) -> None:
    """The mart's p-value macro (erfcc) against scipy's erfc over z in [0, 26]."""
    from dbt.cli.main import dbtRunner

    from signaffect.core.settings import PROJECT_DIR

    db, _ = fixture_db
    monkeypatch.setenv("SIGNAFFECT_DB", str(db))
    result = dbtRunner().invoke(
        [
            "--quiet",
            "compile",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--inline",
            "select {{ chi2_1df_pvalue('g2') }} as p from grid",
        ]
    )
    assert result.success, result.exception
    sql = result.result.results[0].node.compiled_code
    z = np.linspace(0, 26, 2001)
    con = duckdb.connect()
    try:
        con.register("grid", pa.table({"g2": 2 * z**2}))
        got = con.sql(sql).fetchnumpy()["p"]
    finally:
        con.close()
    np.testing.assert_allclose(got, erfc(z), rtol=1.2e-7, atol=1e-300)
