"""Grammar, signers and timing on the real NCSLGR corpus: every grammatical marker of the
field-kinds seed splits the sign tokens into inside and outside exactly once, the strata
partition the tokens, signer shares add to 1, and the timing mart has one onset row per
span."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.compute as pc
import pytest

from read.grammar_context import stratum
from read.sign_units import load
from read.signers import signer_shares
from signaffect.core.settings import PROJECT_DIR
from tests.conftest import scalar

LABELS = ("empath:negative_emotion", "empath:confusion")


def seed_markers() -> list[str]:
    with open(PROJECT_DIR / "seeds" / "signstream_field_kinds.csv", newline="") as f:
        return sorted(
            r["field_name"] for r in csv.DictReader(f) if r["feature_kind"] == "grammatical"
        )


def test_each_marker_partitions_every_token_once(corpus_db: Path) -> None:
    n_tokens = scalar(corpus_db, "select count(*) from fct_sign_tokens")
    assert n_tokens == 11_864
    markers = seed_markers()
    assert "wh question" in markers and "yes-no question" in markers and len(markers) == 9
    assert (
        scalar(
            corpus_db, "select list(distinct marker order by marker) from fct_sign_token_grammar"
        )
        == markers
    )
    for marker in markers:
        rows, tokens, inside, outside = (
            scalar(
                corpus_db,
                f"select {expr} from fct_sign_token_grammar where marker = '{marker}'",
            )
            for expr in (
                "count(*)",
                "count(distinct sign_token_id)",
                "count(*) filter (where is_inside)",
                "count(*) filter (where not is_inside)",
            )
        )
        assert rows == tokens == inside + outside == n_tokens, marker
    assert scalar(corpus_db, "select count(*) from fct_sign_token_grammar where is_inside") > 0


def test_token_marks_agree_with_the_frames(corpus_db: Path) -> None:
    """A token is inside a marker exactly when one of its frames carries the marker in
    fct_frame_grammar."""
    disagreements = scalar(
        corpus_db,
        """
        with frames_inside as (
            select tokens.sign_token_id, unnest(frames.grammatical_markers) as marker,
            from fct_sign_tokens as tokens
            inner join fct_frame_grammar as frames
                on tokens.source_file = frames.source_file
                and tokens.utterance_id = frames.utterance_id
                and frames.frame_index between tokens.start_frame and tokens.end_frame
        ),
        expected as (select distinct sign_token_id, marker from frames_inside)
        select count(*)
        from fct_sign_token_grammar as marks
        left join expected using (sign_token_id, marker)
        where marks.is_inside != (expected.sign_token_id is not null)
        """,
    )
    assert disagreements == 0
    frames_inside = scalar(
        corpus_db, "select count(*) from fct_frame_grammar where is_inside_grammar"
    )
    assert 0 < frames_inside < scalar(corpus_db, "select count(*) from fct_frames")


@pytest.mark.parametrize("label", LABELS)
def test_strata_partition_tokens_and_shares_add_to_one(corpus_db: Path, label: str) -> None:
    data = load(corpus_db, label)
    inside = stratum(data, "inside-grammar").units["unit_key"].to_pylist()
    outside = stratum(data, "outside-grammar").units["unit_key"].to_pylist()
    assert not set(inside) & set(outside)
    assert len(inside) + len(outside) == data.units.num_rows == 8_241  # eligible tokens
    shares = signer_shares(data)
    assert pc.sum(shares["share_of_label"]).as_py() == pytest.approx(1.0)
    assert pc.sum(shares["share_of_tokens"]).as_py() == pytest.approx(1.0)
    assert shares.num_rows == 8
    labelled = scalar(
        corpus_db,
        f"select count(*) from fct_sign_tokens where list_contains(lexical_labels, '{label}')",
    )
    assert pc.sum(shares["n_label"]).as_py() == labelled > 0


def test_timing_has_one_onset_row_per_span(corpus_db: Path) -> None:
    spans = scalar(
        corpus_db,
        """
        select count(*) from fct_annotation_spans as spans
        where not is_transition
            and feature_kind in ('facial', 'head', 'body', 'grammatical')
            and exists (
                select 1 from fct_sign_tokens as tokens
                where tokens.source_file = spans.source_file
                    and tokens.utterance_id = spans.utterance_id
                    and spans.start_frame <= tokens.end_frame
                    and tokens.start_frame <= spans.end_frame
            )
        """,
    )
    onset_rows = scalar(
        corpus_db, "select count(*) from fct_nonmanual_sign_timing where sign_order = 1"
    )
    assert onset_rows == spans > 0
    assert (
        scalar(
            corpus_db,
            """
        select count(*) from (
            select source_file, annotation_id, any_value(n_signs_overlapped) as n, count(*) as rows
            from fct_nonmanual_sign_timing group by all
        ) where n != rows
        """,
        )
        == 0
    )
