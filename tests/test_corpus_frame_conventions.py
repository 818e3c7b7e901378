"""The frame conventions of macros/ms_to_frame.sql on NCSLGR: the default (floor) and the
reference study's (ms // 33), which reproduces the study's count."""

from __future__ import annotations

import shutil
from pathlib import Path

from signaffect.core.dbt_runner import run_dbt
from tests.conftest import scalar

STUDY_REPORTED_FRAMES = 180_669


def test_floor_is_the_default_and_not_the_studys_count(corpus_db: Path) -> None:
    assert scalar(corpus_db, "select count(*) from fct_frames") == 180_999


def test_study_convention_reproduces_the_studys_frame_count(
    corpus_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "study.duckdb"
    shutil.copyfile(corpus_db, db)
    run_dbt("run", db, {"frame_convention": "study"}, ["--select", "+fct_frames"])
    frames = scalar(db, "select count(*) from fct_frames")
    by_hand = scalar(db, "select sum((end_ms - start_ms) // 33) from raw.signstream_utterances")
    assert frames == by_hand == 180_666
    assert abs(frames - STUDY_REPORTED_FRAMES) == 3
