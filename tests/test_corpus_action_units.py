"""The FACS action units derived from NCSLGR's SignStream codes: one observation, one AU."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import rows


def test_no_two_action_units_are_identical_frame_columns(corpus_db: Path) -> None:
    columns: dict[str, set[tuple[str, int, int]]] = {}
    for feature, source_file, utterance_id, frame_index in rows(
        corpus_db,
        "select feature, source_file, utterance_id, frame_index from fct_frame_features "
        "where feature_kind = 'au'",
    ):
        columns.setdefault(feature, set()).add((source_file, utterance_id, frame_index))
    by_frames: dict[frozenset[tuple[str, int, int]], list[str]] = {}
    for feature, frames in columns.items():
        by_frames.setdefault(frozenset(frames), []).append(feature)
    assert [names for names in by_frames.values() if len(names) > 1] == []
    assert "AU1+2 inner and outer brow raiser" in columns
    assert "AU7 lid tightener" in columns and "AU44 squint" not in columns
    assert not {"AU1 inner brow raiser", "AU2 outer brow raiser"} & columns.keys()
    assert len(columns) == 39  # 40 before: AU1 and AU2 are now AU1+2, AU44 is gone, AU17+24 is new
