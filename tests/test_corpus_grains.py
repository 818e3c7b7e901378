"""The sign-token, utterance and annotation-span grains on the real NCSLGR corpus: each mart
gives the counts it claims, checked against the XML read here or against the frame table."""

from __future__ import annotations

import math
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from signaffect.core.dbt_runner import run_dbt
from tests.conftest import rows, scalar
from tests.signstream_facts import TRANSITION_VALUE_IDS
from tests.test_corpus_ncslgr import _normalised


def _frame(ms: int) -> int:
    """The default frame convention (floor), written independently of macros/ms_to_frame."""
    return math.floor(ms * 30 / 1000)


@dataclass(frozen=True)
class Span:
    source_file: str
    field: str
    is_transition: bool
    first_frame: int  # clipped to the utterance
    last_frame: int


def corpus_spans(corpus_dir: Path) -> list[Span]:
    """Every annotation (`A`) of every utterance, read straight from the XML and clipped."""
    spans = []
    for path in sorted(corpus_dir.glob("*.xml")):
        root = ET.parse(path).getroot()
        fields = {f.get("ID"): _normalised(f.get("NAME", "")) for f in root.iter("FIELD")}
        for utterance in root.iter("UTTERANCE"):
            n_frames = _frame(int(utterance.get("E", 0)) - int(utterance.get("S", 0))) + 1
            for track in utterance.iter("TRACK"):
                for a in track.iter("A"):
                    vid = a.get("VID")
                    spans.append(
                        Span(
                            path.name,
                            fields[track.get("FID")],
                            vid is not None and int(vid) in TRANSITION_VALUE_IDS,
                            max(_frame(int(a.get("S", 0))), 0),
                            min(_frame(int(a.get("E", 0))), n_frames - 1),
                        )
                    )
    return spans


@pytest.fixture(scope="module")
def spans(corpus_dir: Path) -> list[Span]:
    return corpus_spans(corpus_dir)


def test_annotation_spans_are_the_xml_annotations_that_survive_clipping(
    corpus_db: Path, spans: list[Span]
) -> None:
    surviving = [s for s in spans if s.last_frame >= s.first_frame]
    assert len(spans) - len(surviving) == 1  # one ONSET lies wholly after its utterance
    assert scalar(corpus_db, "select count(*) from fct_annotation_spans") == len(surviving)
    assert scalar(corpus_db, "select sum(n_frames) from fct_annotation_spans") == sum(
        s.last_frame - s.first_frame + 1 for s in surviving
    )


def test_sign_tokens_are_the_main_gloss_signs_that_survive_clipping(
    corpus_db: Path, spans: list[Span]
) -> None:
    signs = [
        s
        for s in spans
        if s.field == "main gloss" and not s.is_transition and s.last_frame >= s.first_frame
    ]
    assert len(signs) == 11_864
    assert scalar(corpus_db, "select count(*) from fct_sign_tokens") == len(signs)
    assert scalar(corpus_db, "select sum(n_frames) from fct_sign_tokens") == sum(
        s.last_frame - s.first_frame + 1 for s in signs
    )


def test_token_frames_are_the_frames_that_carry_a_main_gloss(corpus_db: Path) -> None:
    token_frames = """
        select distinct t.source_file, t.utterance_id, f.frame_index
        from fct_sign_tokens t
        join fct_frames f
          on f.source_file = t.source_file and f.utterance_id = t.utterance_id
         and f.frame_index between t.start_frame and t.end_frame
    """
    gloss_frames = """
        select distinct source_file, utterance_id, frame_index from fct_frame_features
        where field_name = 'main gloss'
    """
    assert (
        scalar(corpus_db, f"select count(*) from (({token_frames}) except ({gloss_frames}))") == 0
    )
    assert (
        scalar(corpus_db, f"select count(*) from (({gloss_frames}) except ({token_frames}))") == 0
    )


def test_token_features_are_the_features_on_some_frame_of_the_token(corpus_db: Path) -> None:
    """Any overlap makes a feature present: counted here with `exists` over the frame table."""
    got = dict(
        rows(
            corpus_db,
            "select feature, count(*) from fct_sign_token_features "
            "where feature_kind <> 'lexical' group by feature",
        )
    )
    expected = dict(
        rows(
            corpus_db,
            """
            select ff.feature, count(distinct t.sign_token_id)
            from fct_sign_tokens t
            join fct_frame_features ff
              on ff.source_file = t.source_file and ff.utterance_id = t.utterance_id
             and ff.frame_index >= t.start_frame and ff.frame_index <= t.end_frame
            where ff.feature_kind not in ('gloss', 'lexical')
            group by ff.feature
            """,
        )
    )
    assert len(expected) > 250
    assert got == expected


def test_token_labels_come_from_their_own_hits(corpus_db: Path) -> None:
    """At sign scope a label sits on exactly the frames of the tokens that carry it, and the
    issue's count holds: 161 sign tokens' glosses give empath:negative_emotion (1,879
    frames), of which the label rules (descriptions, negation, the review) keep 45."""
    per_label = rows(
        corpus_db,
        """
        with token_labels as (
            select source_file, utterance_id, start_frame, end_frame,
                unnest(lexical_labels) as label
            from fct_sign_tokens
        ),
        token_label_frames as (
            select distinct l.label, f.source_file, f.utterance_id, f.frame_index
            from token_labels l
            join fct_frames f
              on f.source_file = l.source_file and f.utterance_id = l.utterance_id
             and f.frame_index between l.start_frame and l.end_frame
        )
        select d.feature, d.n_frames, count(t.label)
        from dim_features d
        left join token_label_frames t on t.label = d.feature
        where d.feature_kind = 'lexical'
        group by all
        """,
    )
    assert len(per_label) > 20
    assert all(n_frames == from_tokens for _, n_frames, from_tokens in per_label)
    assert (
        scalar(
            corpus_db,
            "select count(*) from fct_sign_tokens "
            "where list_contains(lexical_labels, 'empath:negative_emotion')",
        )
        == 45  # of the 161 whose gloss gives it: the label rules keep 45
    )
    assert scalar(
        corpus_db,
        "select sum(n_tokens) from fct_lexical_label_glosses "
        "where label = 'empath:negative_emotion'",
    ) == 161
    lexical_rows = rows(
        corpus_db,
        """
        select count(*), count(*) filter (where f.n_frames_active = t.n_frames)
        from fct_sign_token_features f join fct_sign_tokens t using (sign_token_id)
        where f.feature_kind = 'lexical'
        """,
    )
    assert (
        lexical_rows[0][0]
        == lexical_rows[0][1]
        == scalar(corpus_db, "select sum(len(lexical_labels)) from fct_sign_tokens")
    )


def _per_feature(db: Path, sql: str) -> dict[str, tuple[int, int]]:
    """(n_utterances, n_frames) by feature, from a query returning the three."""
    return {feature: (n_utterances, n_frames) for feature, n_utterances, n_frames in rows(db, sql)}


def test_utterance_features_count_the_utterances_of_the_frame_table(corpus_db: Path) -> None:
    got = _per_feature(
        corpus_db,
        "select feature, count(*), sum(n_frames_active) from fct_utterance_features "
        "group by feature",
    )
    expected = _per_feature(
        corpus_db,
        "select feature, count(distinct (source_file, utterance_id)), count(*) "
        "from fct_frame_features group by feature",
    )
    assert got == expected
    assert sum(n for n, _ in got.values()) == 73_154  # 74,402 before the label rules


def test_coverage_counts_the_files_that_code_each_field(corpus_db: Path, spans: list[Span]) -> None:
    files_per_field: dict[str, set[str]] = {}
    for s in spans:
        files_per_field.setdefault(s.field, set()).add(s.source_file)
    frames_per_file = Counter(
        dict(rows(corpus_db, "select source_file, count(*) from fct_frames group by 1"))
    )
    coverage = {
        feature: (n_files, n_frames)
        for feature, n_files, n_frames in rows(
            corpus_db, "select feature, n_files_coded, n_frames_coded from dim_features"
        )
    }
    # A field coded in a few files only; an AU derived from a field coded in ten files.
    for feature, field in [
        ("relative clause=rel-cl", "relative clause"),
        ("AU21 neck tightener", "neck"),
        ("eye gaze=to addressee", "eye gaze"),
    ]:
        files = files_per_field[field]
        assert coverage[feature] == (len(files), sum(frames_per_file[f] for f in files))
    assert coverage["AU21 neck tightener"][0] == 10
    assert coverage["relative clause=rel-cl"][0] == 1


def test_value_level_coverage_counts_only_files_that_use_the_value(
    corpus_db: Path, corpus_dir: Path, tmp_path: Path
) -> None:
    """`eye gaze` is coded in all 38 files but `to addressee` used in 9: at coverage_level
    value its denominator is those 9 files' frames, so its base rate rises accordingly."""
    db = tmp_path / "value.duckdb"
    shutil.copyfile(corpus_db, db)
    run_dbt(
        "run", db, {"coverage_level": "value"}, ["--select", "fct_feature_coverage", "dim_features"]
    )
    used = set()
    for path in sorted(corpus_dir.glob("*.xml")):
        root = ET.parse(path).getroot()
        for field in root.iter("FIELD"):
            if _normalised(field.get("NAME", "")) != "eye gaze":
                continue
            ids = {v.get("ID") for v in field.iter("VALUE") if v.get("NAME") == "to addressee"}
            for track in root.iter("TRACK"):
                if track.get("FID") == field.get("ID") and any(
                    a.get("VID") in ids for a in track.iter("A")
                ):
                    used.add(path.name)
    frames_per_file = Counter(
        dict(rows(db, "select source_file, count(*) from fct_frames group by 1"))
    )
    query = (
        "select n_frames, n_files_coded, n_frames_coded from dim_features "
        "where feature = 'eye gaze=to addressee'"
    )
    ((n_frames, n_files, n_coded),) = rows(db, query)
    ((_, field_files, field_coded),) = rows(corpus_db, query)
    assert (n_files, field_files, len(used)) == (9, 38, 9)
    assert n_coded == sum(frames_per_file[f] for f in used)
    assert n_frames / n_coded > n_frames / field_coded
