"""Lexical labels on frames: a LIWC dictionary the test writes, and both scopes on NCSLGR."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.corpus import build_warehouse, ingest_corpus
from signaffect.core.settings import SAMPLE_CORPUS_DIR
from tests.conftest import TEST_DBT_VARS, rows, scalar

LIWC_DIC = """%
1\tposemo
2\tnegemo
%
happ*\t1
love\t1
angr*\t2
mad\t2
"""

LABELS = [
    "empath:negative_emotion",
    "empath:positive_emotion",
    "empath:confusion",
    "nrc:anger",
    "nrc:joy",
]


def test_liwc_wildcards_label_the_frames_of_matching_signs(tmp_path: Path) -> None:
    dic = tmp_path / "tiny.dic"
    dic.write_text(LIWC_DIC, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    ingest_corpus(db, [SAMPLE_CORPUS_DIR], liwc_dic=dic)
    build_warehouse(db, dbt_vars=TEST_DBT_VARS)
    con = duckdb.connect(str(db), read_only=True)
    hits = dict(
        con.execute(
            "select label, count(*) from raw.lexicon_hits where lexicon = 'liwc' group by label"
        ).fetchall()
    )
    tokens = {
        t
        for (t,) in con.execute(
            "select distinct token from raw.lexicon_hits where label = 'liwc:negemo'"
        ).fetchall()
    }
    # Frames labelled liwc:negemo at sign scope are exactly the frames of signs that hit it.
    expected = con.execute(
        """
        select count(*) from (
            select distinct e.source_file, e.utterance_id, e.frame_index
            from raw.lexicon_hits h
            join intermediate.int_annotations_expanded_to_frames e
              on h.source_file = e.source_file and h.annotation_id = e.annotation_id
            where h.label = 'liwc:negemo' and h.scope = 'sign'
        )
        """
    ).fetchone()
    got = con.execute(
        "select count(*) from fct_frame_features where feature = 'liwc:negemo'"
    ).fetchone()
    con.close()
    assert hits["liwc:posemo"] > 0 and hits["liwc:negemo"] > 0
    assert tokens & {"angry", "mad"} and all(t.startswith("angr") or t == "mad" for t in tokens)
    assert expected is not None and got is not None
    assert got[0] == expected[0] > 10


def test_both_scopes_have_frames_for_the_study_labels(corpus_db: Path) -> None:
    counts = rows(
        corpus_db,
        "select label, scope, count(*) from intermediate.int_lexical_labels_expanded_to_frames "
        "group by all",
    )
    frames = {(label, scope): n for label, scope, n in counts}
    for label in LABELS:
        for scope in ("sign", "utterance"):
            assert frames.get((label, scope), 0) >= 10, (label, scope)
        # A translation spans its utterance, so utterance scope covers more frames.
        assert frames[(label, "utterance")] > frames[(label, "sign")]


def test_sign_scope_is_what_the_frame_table_carries_by_default(corpus_db: Path) -> None:
    per_label = scalar(
        corpus_db,
        "select count(*) from fct_frame_features where feature = 'empath:negative_emotion'",
    )
    at_sign = scalar(
        corpus_db,
        "select count(*) from intermediate.int_lexical_labels_expanded_to_frames "
        "where label = 'empath:negative_emotion' and scope = 'sign'",
    )
    assert per_label == at_sign
