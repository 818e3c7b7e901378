"""Where NCSLGR's lexical labels come from: the words behind each label, and the question
words (seed question_words) kept out of the emotion labels."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from signaffect.core.settings import PROJECT_DIR

pytestmark = pytest.mark.corpus

QUESTION_WORDS = {
    row["word"] for row in csv.DictReader((PROJECT_DIR / "seeds/question_words.csv").open())
}


def _confusion_frames(con: duckdb.DuckDBPyConnection, words: set[str]) -> set[tuple]:
    """Sign-scope `empath:confusion` frames from the raw hits, keeping only `words`' hits."""
    rows = con.execute(
        """
        select distinct h.token, e.source_file, e.utterance_id, e.frame_index
        from raw.lexicon_hits h
        join intermediate.int_annotations_expanded_to_frames e
          on h.source_file = e.source_file and h.annotation_id = e.annotation_id
        where h.label = 'empath:confusion' and h.scope = 'sign'
        """
    ).fetchall()
    return {tuple(frame) for token, *frame in rows if token in words}


def test_question_words_are_removed_from_empath_confusion(corpus_db: Path) -> None:
    con = duckdb.connect(str(corpus_db), read_only=True)
    try:
        hit_words = {
            t for (t,) in con.execute("select distinct token from raw.lexicon_hits").fetchall()
        }
        every_frame = _confusion_frames(con, hit_words)
        kept = _confusion_frames(con, hit_words - QUESTION_WORDS)
        why_frames = _confusion_frames(con, {"why"})
        got = con.execute(
            "select n_frames from dim_features where feature = 'empath:confusion'"
        ).fetchone()
        # The question marker QM (QMwg) gives no lookup word, so no hit at all.
        qm_hits = con.execute(
            "select count(*) from raw.lexicon_hits where source_text like 'QM%'"
        ).fetchone()
        question_tokens = con.execute(
            """
            select count(*), count(*) filter (where 'empath:confusion' in lexical_labels)
            from fct_sign_tokens where regexp_matches(gloss, 'WHY|^QM')
            """
        ).fetchone()
    finally:
        con.close()
    assert qm_hits == (0,)
    assert len(why_frames) == len(every_frame) - len(kept) == 489  # what the list removes
    assert len(kept) == 353  # what the question-word list alone keeps
    # The other label rules (quoted descriptions, the sense review) keep one sign, CONFUSE.
    assert got == (19,)
    assert question_tokens == (75, 0)


def test_label_words_add_up_to_the_labels(corpus_db: Path) -> None:
    con = duckdb.connect(str(corpus_db), read_only=True)
    try:
        mismatched = con.execute(
            """
            with words as (
                select label, any_value(label_n_frames) as label_n_frames,
                    sum(n_signs) as n_signs, max(n_frames) as most_frames
                from fct_lexical_label_words group by label
            ),
            tokens as (
                select label, count(*) as n_tokens
                from (select unnest(lexical_labels) as label from fct_sign_tokens)
                group by label
            )
            select d.feature
            from dim_features d
            left join words w on w.label = d.feature
            left join tokens t on t.label = d.feature
            where d.feature_kind = 'lexical'
                and not (w.label_n_frames = d.n_frames and w.most_frames <= d.n_frames
                         and w.n_signs >= t.n_tokens)
            """
        ).fetchall()
        words = dict(
            con.execute(
                "select word, n_signs from fct_lexical_label_words where label = 'empath:confusion'"
            ).fetchall()
        )
    finally:
        con.close()
    assert mismatched == []
    assert not QUESTION_WORDS & words.keys()
    # 5"surprised" and 5"perplexed" are quoted descriptions, SHOCK a reviewed-out sense:
    # only CONFUSE's word is left.
    assert words == {"confuse": 1}
