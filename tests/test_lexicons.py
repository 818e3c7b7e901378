"""Lexicons (Empath, NRC EmoLex, LIWC .dic) and the lexicon hits of glosses and translations."""

from __future__ import annotations

from pathlib import Path

import duckdb
import liwc
import pyarrow as pa
import pytest
from empath import Empath
from nrclex import NRCLex

from ingest.lexicon_hits import (
    HITS_SCHEMA,
    LOOKUPS_SCHEMA,
    RAW_TABLE,
    TEXTS_SCHEMA,
    coverage,
    lexicon_hits,
    lexicon_lookups,
    scope_of_field,
    texts_from_signstream,
)
from ingest.lexicons import (
    EMPATH_EMOTION_CATEGORIES,
    NRC_CATEGORIES,
    EmpathLexicon,
    LexiconFileError,
    LiwcLexicon,
    NrcLexicon,
    select_lexicons,
)
from ingest.raw_store import replace_source_rows
from ingest.signstream import SCHEMAS

LIWC_DIC = (
    "%\n"
    "1\tposemo\n"
    "2\tnegemo\n"
    "3\tanger\n"
    "4\tsocial\n"
    "%\n"
    "happ*\t1\n"
    "good\t1\n"
    "angr*\t2\t3\n"
    "hate\t2 3\n"
    "fâch*\t2\t3\n"
    "friend*\t1\t4\n"
    "\n"
    "like\t(02 134)126\t1\n"
)


@pytest.fixture(scope="module")
def empath() -> EmpathLexicon:
    return EmpathLexicon()


@pytest.fixture(scope="module")
def nrc() -> NrcLexicon:
    return NrcLexicon()


@pytest.fixture
def liwc_path(tmp_path: Path) -> Path:
    path = tmp_path / "test.dic"
    path.write_text(LIWC_DIC, encoding="utf-8")
    return path


def make_texts(rows: list[tuple[str, int, int, str, str | None]]) -> pa.Table:
    """Texts table from (source_file, utterance_id, annotation_id, field_name, text) rows."""
    return pa.table(
        {
            "source_file": [r[0] for r in rows],
            "content_hash": [f"hash-{r[0]}" for r in rows],
            "utterance_id": [r[1] for r in rows],
            "annotation_id": [r[2] for r in rows],
            "field_name": [r[3] for r in rows],
            "text": [r[4] for r in rows],
        },
        schema=TEXTS_SCHEMA,
    )


def labels_of(hits: pa.Table) -> set[tuple[str, str, str]]:
    """(scope, label, token) of every hit."""
    return set(
        zip(
            hits.column("scope").to_pylist(),
            hits.column("label").to_pylist(),
            hits.column("token").to_pylist(),
            strict=True,
        )
    )


# --- LIWC ----------------------------------------------------------------------------------


def test_liwc_labels_words_and_wildcards(liwc_path: Path) -> None:
    lexicon = LiwcLexicon(liwc_path)
    assert lexicon.name == "liwc"
    assert lexicon.categories == ("posemo", "negemo", "anger", "social")
    assert lexicon.categories_for("happy") == ["posemo"]
    assert lexicon.categories_for("happiness") == ["posemo"]
    assert lexicon.categories_for("angrily") == ["negemo", "anger"]
    assert lexicon.categories_for("hate") == ["negemo", "anger"]
    assert lexicon.categories_for("hated") == []  # no wildcard on "hate"
    assert lexicon.categories_for("friendship") == ["posemo", "social"]
    assert lexicon.categories_for("fâchée") == ["negemo", "anger"]
    assert lexicon.categories_for("like") == ["posemo"]  # conditional code ignored
    assert lexicon.categories_for("table") == []
    assert lexicon.categories_for("") == []
    assert lexicon.label("negemo") == "liwc:negemo"


def test_liwc_agrees_with_liwc_package(liwc_path: Path) -> None:
    ascii_path = liwc_path.with_name("ascii.dic")
    # the liwc package reads tab-separated ids only, ASCII only, no conditional codes
    lines = [line for line in LIWC_DIC.splitlines() if "â" not in line and "(" not in line]
    ascii_path.write_text("\n".join(lines).replace("2 3", "2\t3") + "\n", encoding="ascii")
    parse, names = liwc.load_token_parser(str(ascii_path))
    lexicon = LiwcLexicon(ascii_path)
    assert list(lexicon.categories) == names
    for word in ["happy", "happiness", "angrily", "hate", "hated", "good", "friends", "x"]:
        assert set(lexicon.categories_for(word)) == set(parse(word)), word


def test_liwc_category_selection(liwc_path: Path) -> None:
    lexicon = LiwcLexicon(liwc_path, categories=["anger"])
    assert lexicon.categories == ("anger",)
    assert lexicon.labels == ["liwc:anger"]
    assert lexicon.categories_for("angry") == ["anger"]
    assert lexicon.categories_for("happy") == []
    with pytest.raises(ValueError, match="unknown categories"):
        LiwcLexicon(liwc_path, categories=["joy"])


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("1\tposemo\n%\nhappy\t1\n", 1, "expected '%'"),
        ("%\n1\tposemo\nnot a category\n%\nhappy\t1\n", 3, "expected '<number><tab><category>'"),
        ("%\n1\tposemo\n1\tnegemo\n%\n", 3, "declared twice"),
        ("%\n1\tposemo\n%\nhappy\t1\nsad\t7\n", 5, "not declared"),
        ("%\n1\tposemo\n%\nhappy\n", 4, "no category ids"),
        ("%\n1\tposemo\n%\nhappy\tposemo\n", 4, "not a number"),
        ("%\n1\tposemo\n%\nha*ppy\t1\n", 4, "'*' may only end"),
        ("%\n1\tposemo\n%\nhappy\t1\nhappy\t1\n", 5, "appears twice"),
        ("%\n1\tposemo\n%\n\t1\n", 4, "no word"),
        ("%\n1\tposemo\n", 2, "not closed"),
        ("%\n%\nhappy\t1\n", 2, "no categories"),
    ],
)
def test_liwc_malformed_dic_names_file_and_line(
    tmp_path: Path, content: str, line: int, problem: str
) -> None:
    path = tmp_path / "bad.dic"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconFileError) as info:
        LiwcLexicon(path)
    assert info.value.path == str(path)
    assert info.value.line == line
    assert problem in info.value.problem
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_liwc_not_utf8_names_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.dic"
    path.write_bytes(b"%\n1\tposemo\n%\ncaf\xe9\t1\n")
    with pytest.raises(LexiconFileError, match=r"latin1\.dic:4: not UTF-8"):
        LiwcLexicon(path)


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_liwc_empty_dic(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.dic"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconFileError, match="empty file"):
        LiwcLexicon(path)


def test_liwc_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LexiconFileError, match=r"missing\.dic: file not found"):
        LiwcLexicon(tmp_path / "missing.dic")


def test_liwc_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "windows.dic"
    path.write_bytes("\ufeff%\r\n1\tposemo\r\n%\r\nhapp*\t1\r\n".encode())
    assert LiwcLexicon(path).categories_for("happy") == ["posemo"]


# --- Empath --------------------------------------------------------------------------------


def test_empath_default_categories_exist_and_are_emotions(empath: EmpathLexicon) -> None:
    assert empath.categories == EMPATH_EMOTION_CATEGORIES
    assert set(EMPATH_EMOTION_CATEGORIES) <= set(Empath().cats)
    assert len(set(EMPATH_EMOTION_CATEGORIES)) == len(EMPATH_EMOTION_CATEGORIES)
    for category in ["negative_emotion", "positive_emotion", "confusion", "anger", "fear"]:
        assert category in empath.categories
    for topical in ["vehicle", "money", "trust", "warmth", "fun"]:
        assert topical not in empath.categories


def test_empath_lookup_agrees_with_analyze(empath: EmpathLexicon) -> None:
    analyzer = Empath()
    vocabulary = sorted({w for c in EMPATH_EMOTION_CATEGORIES for w in analyzer.cats[c]})
    sample = vocabulary[:: max(1, len(vocabulary) // 400)]
    sample += ["angry", "confused", "happy", "car", "the", "xyzzy", "Angry"]
    for word in sample:
        counts = analyzer.analyze(word, categories=list(EMPATH_EMOTION_CATEGORIES))
        expected = {c for c, n in counts.items() if n > 0}
        assert set(empath.categories_for(word)) == expected, word


def test_empath_all_categories_selectable() -> None:
    everything = EmpathLexicon(categories=sorted(Empath().cats))
    assert "vehicle" in everything.categories_for("car")
    assert "vehicle" not in EmpathLexicon().categories


# --- NRC -----------------------------------------------------------------------------------


def test_nrc_categories(nrc: NrcLexicon) -> None:
    assert nrc.categories == NRC_CATEGORIES
    assert len(nrc.categories) == 10
    assert nrc.categories_for("angry") == ["anger", "disgust", "negative"]
    assert "joy" in nrc.categories_for("happy")
    assert nrc.categories_for("xyzzy") == []
    assert NrcLexicon(categories=["joy"]).categories_for("happy") == ["joy"]


def test_nrc_lookup_agrees_with_nrclex(nrc: NrcLexicon) -> None:
    reference = NRCLex(None)
    for word in ["angry", "happy", "abandon", "mother", "tree", "confused", "car", "xyzzy"]:
        reference.load_token_list([word])
        assert set(nrc.categories_for(word)) == set(reference.raw_emotion_scores), word


# --- lexicon hits --------------------------------------------------------------------------


def test_hits_on_known_sentences(empath: EmpathLexicon, nrc: NrcLexicon) -> None:
    texts = make_texts(
        [
            ("story.xml", 1, 10, "main gloss", "(2h)ANGRY"),
            ("story.xml", 1, 11, "main gloss", '5"perplexed"'),
            ("story.xml", 1, 12, "main gloss", "IX-1p"),
            ("story.xml", 1, 13, "English translation", "I was so angry and confused."),
            ("story.xml", 2, 20, "English translation", "We love our happy family!"),
        ]
    )
    hits = lexicon_hits(texts, [empath, nrc])
    assert hits.schema == HITS_SCHEMA
    found = labels_of(hits)
    assert ("sign", "nrc:anger", "angry") in found
    assert ("sign", "empath:negative_emotion", "angry") in found
    assert ("sign", "empath:confusion", "perplexed") in found
    assert ("utterance", "nrc:anger", "angry") in found
    assert ("utterance", "empath:confusion", "confused") in found
    assert ("utterance", "empath:negative_emotion", "angry") in found
    assert ("utterance", "nrc:joy", "love") in found
    assert ("utterance", "empath:positive_emotion", "happy") in found
    assert not any(a == 12 for a in hits.column("annotation_id").to_pylist())
    for row in hits.to_pylist():
        assert row["label"] == f"{row['lexicon']}:{row['category']}"
        assert row["content_hash"] == "hash-story.xml"
    confused = [r for r in hits.to_pylist() if r["token"] == "confused"]
    assert {r["token_index"] for r in confused} == {5}
    assert {r["source_text"] for r in confused} == {"I was so angry and confused."}
    assert {r["utterance_id"] for r in confused} == {1}


def test_empty_and_blank_texts_give_no_hits(empath: EmpathLexicon, nrc: NrcLexicon) -> None:
    texts = make_texts(
        [
            ("a.xml", 1, 1, "main gloss", ""),
            ("a.xml", 1, 2, "main gloss", None),
            ("a.xml", 1, 3, "English translation", "   "),
            ("a.xml", 1, 4, "English translation", "..."),
        ]
    )
    hits = lexicon_hits(texts, [empath, nrc])
    assert hits.num_rows == 0
    assert hits.schema == HITS_SCHEMA
    assert lexicon_hits(texts.slice(0, 0), [empath, nrc]).num_rows == 0


def test_non_ascii_text(liwc_path: Path, nrc: NrcLexicon) -> None:
    texts = make_texts(
        [
            ("é.xml", 1, 1, "English translation", "Elle était très fâchée, so angry — naïve café"),
            ("é.xml", 1, 2, "main gloss", "fs-FÂCHÉ"),
        ]
    )
    hits = lexicon_hits(texts, [LiwcLexicon(liwc_path), nrc])
    found = labels_of(hits)
    assert ("utterance", "liwc:anger", "fâchée") in found
    assert ("utterance", "liwc:negemo", "angry") in found
    assert ("utterance", "nrc:anger", "angry") in found
    assert ("sign", "liwc:anger", "fâché") in found


def test_fields_recognised_by_name_only(nrc: NrcLexicon) -> None:
    assert scope_of_field("main gloss") == "sign"
    assert scope_of_field("English translation\r") == "utterance"
    assert scope_of_field(" english  Translation") == "utterance"
    assert scope_of_field("literal translation") is None
    assert scope_of_field("non-dominant hand gloss") is None
    texts = make_texts(
        [
            ("a.xml", 1, 1, "literal translation", "angry"),
            ("a.xml", 1, 2, "non-dominant hand gloss", "ANGRY"),
            ("a.xml", 1, 3, "English translation\r", "angry"),
        ]
    )
    hits = lexicon_hits(texts, [nrc])
    assert set(hits.column("annotation_id").to_pylist()) == {3}


def test_person_names_are_not_looked_up(nrc: NrcLexicon) -> None:
    texts = make_texts(
        [
            ("a.xml", 1, 1, "main gloss", "fs-JOHN"),
            ("a.xml", 1, 2, "English translation", "John hates Sue."),
        ]
    )
    assert nrc.categories_for("john")  # a lexicon word, in another sense
    assert lexicon_hits(texts, [nrc]).num_rows == 0
    unfiltered = lexicon_hits(texts, [nrc], skip_tokens=())
    assert "nrc:disgust" in unfiltered.column("label").to_pylist()


def test_coverage_counts_signs_and_utterances(nrc: NrcLexicon) -> None:
    texts = make_texts(
        [
            ("a.xml", 1, 1, "main gloss", "ANGRY"),
            ("a.xml", 1, 2, "main gloss", "IX-1p"),
            ("a.xml", 1, 3, "main gloss", "BOOK"),
            ("a.xml", 1, 4, "main gloss", ""),
            ("a.xml", 1, 5, "English translation", "I am angry."),
            ("a.xml", 2, 6, "main gloss", "LOVE"),
            ("a.xml", 2, 7, "English translation", "The book."),
            ("a.xml", 3, 8, "English translation", ""),
            ("b.xml", 1, 1, "English translation", "Terrible, awful, angry."),
        ]
    )
    cover = coverage(texts, lexicon_hits(texts, [nrc]))
    assert cover["sign"] == {"covered": 2, "total": 5, "share": 0.4}
    assert cover["utterance"] == {"covered": 2, "total": 3, "share": 2 / 3}
    empty = coverage(texts.slice(0, 0), lexicon_hits(texts.slice(0, 0), [nrc]))
    assert empty["sign"]["share"] == 0.0


def test_loading_lexicon_hits_is_idempotent(tmp_path: Path, nrc: NrcLexicon) -> None:
    texts = make_texts(
        [
            ("a.xml", 1, 1, "English translation", "I was angry, sad and afraid."),
            ("b.xml", 1, 1, "main gloss", "HAPPY"),
        ]
    )
    hits = lexicon_hits(texts, [nrc])
    count = "select count(*) from raw.lexicon_hits"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        replace_source_rows(con, {RAW_TABLE: hits}, ["a.xml", "b.xml"])
        first = con.execute(count).fetchall()[0][0]
        replace_source_rows(con, {RAW_TABLE: hits}, ["a.xml", "b.xml"])
        second = con.execute(count).fetchall()[0][0]
        assert first == second == hits.num_rows > 0

        # re-loading one file replaces only that file's rows
        only_b = hits.filter(pa.compute.equal(hits.column("source_file"), "b.xml"))
        replace_source_rows(con, {RAW_TABLE: only_b.slice(0, 1)}, ["b.xml"])
        per_file = dict(
            con.execute(
                "select source_file, count(*) from raw.lexicon_hits group by all"
            ).fetchall()
        )
        assert per_file == {"a.xml": hits.num_rows - only_b.num_rows, "b.xml": 1}


def test_texts_from_signstream_match_fields_by_name() -> None:
    fields = pa.table(
        {
            "source_file": ["a.xml"] * 4 + ["b.xml"] * 2,
            "content_hash": ["h"] * 6,
            "field_id": [10000, 10001, 20000, 20001, 10000, 20003],
            "name": [
                "main gloss",
                "non-dominant hand gloss",
                "literal translation",
                "English translation",
                "main gloss",
                "English translation\r",
            ],
            "label": [None] * 6,
            "field_constraint": [None] * 6,
            "language": [None] * 6,
        }
    )
    annotations = pa.table(
        {
            "source_file": ["a.xml"] * 4 + ["b.xml"] * 3,
            "content_hash": ["h"] * 7,
            "annotation_id": [1, 2, 3, 4, 1, 2, 3],
            "utterance_id": [1, 1, 1, 1, 5, 5, 5],
            "participant_id": [0] * 7,
            "field_id": [10000, 10001, 20000, 20001, 10000, 20003, 3],
            "start_ms": [0] * 7,
            "end_ms": [10] * 7,
            "value_id": [None, None, None, None, None, None, 2],
            "text": ["ANGRY", "ANGRY", "angry", "Angry!", "HAPPY", "Happy.", None],
            "frames_per_second": [30.0] * 7,
        },
        schema=SCHEMAS["signstream_annotations"],
    )
    texts = texts_from_signstream(
        {"signstream_fields": fields, "signstream_annotations": annotations}
    )
    assert texts.schema == TEXTS_SCHEMA
    assert [(r["source_file"], r["annotation_id"], r["text"]) for r in texts.to_pylist()] == [
        ("a.xml", 1, "ANGRY"),
        ("a.xml", 4, "Angry!"),
        ("b.xml", 1, "HAPPY"),
        ("b.xml", 2, "Happy."),
    ]


def test_default_lexicons(liwc_path: Path) -> None:
    assert [lex.name for lex in select_lexicons()] == ["empath", "nrc"]
    assert [lex.name for lex in select_lexicons(liwc_dic=liwc_path)] == ["empath", "nrc", "liwc"]


# --- real corpus ---------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.slow
def test_real_corpus_coverage(corpus_dir: Path) -> None:
    from ingest.corpus import parse_files

    _, tables = parse_files([corpus_dir])
    texts = texts_from_signstream(tables)
    hits = lexicon_hits(texts, select_lexicons())
    cover = coverage(texts, hits)
    assert cover["sign"]["total"] > 10_000
    assert cover["utterance"]["total"] > 1_800
    assert 0.15 < cover["sign"]["share"] < 0.5
    assert 0.5 < cover["utterance"]["share"] < 0.9
    labels = set(hits.column("label").to_pylist())
    assert {"empath:confusion", "nrc:anger", "nrc:joy", "empath:negative_emotion"} <= labels


def test_lookups_say_which_signs_could_carry_a_label() -> None:
    """One row per gloss or translation, hit or not: its words, how many were looked up
    (not people's names), and whether they are the sign's word or a quoted description."""
    texts = make_texts(
        [
            ("s.xml", 1, 10, "main gloss", "HOUSE"),
            ("s.xml", 1, 11, "main gloss", '5"perplexed"'),
            ("s.xml", 1, 12, "main gloss", "IX-1p"),
            ("s.xml", 1, 13, "main gloss", "fs-JOHN"),
            ("s.xml", 1, 14, "English translation", "John was not happy."),
            ("s.xml", 1, 15, "literal translation", "ignored"),
        ]
    )
    rows = {r["annotation_id"]: r for r in lexicon_lookups(texts).to_pylist()}
    assert lexicon_lookups(texts).schema == LOOKUPS_SCHEMA
    assert sorted(rows) == [10, 11, 12, 13, 14]
    got = {a: (r["words"], r["n_lookup_words"], r["label_source"]) for a, r in rows.items()}
    assert got == {
        10: ("house", 1, "word"),
        11: ("perplexed", 1, "description"),
        12: ("", 0, "word"),
        13: ("john", 0, "word"),
        14: ("john was not happy", 3, "word"),
    }
    assert rows[14]["scope"] == "utterance" and rows[10]["scope"] == "sign"
