"""FER wired to the corpus: `cli.py fer --videos DIR` → raw.fer_* → fct_fer_frames → fer features,
on the one-story corpus of tests/fer_story.py (the session's `fer_warehouse`: the story
ingested, `fer`, built, `fer` again).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.fer_story import FACELESS, N_FRAMES, FerWarehouse
from tests.fer_story import invoke as _invoke
from tests.fer_story import rows as _rows


def test_failed_and_missing_videos_warn_and_exit_1_while_the_others_load(
    fer_warehouse: FerWarehouse,
) -> None:
    first = fer_warehouse.first
    assert first.exit_code == 1, first.output
    assert "1 processed, 0 skipped (already done), 1 failed" in first.stdout
    warnings = [line for line in first.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, first.stderr
    assert "gone_master.avi" in warnings[0] and "not found" in warnings[0]
    assert "broken_master.avi" in warnings[1] and "zero-length" in warnings[1]
    assert "error: 1 video(s) failed" in first.stderr
    assert "cli.py build" in first.stderr  # not built yet: says how to build fct_fer_frames
    assert "Traceback" not in first.output
    videos = dict(
        _rows(fer_warehouse.db, "select video_file, status from raw.fer_videos order by 1")
    )
    assert videos == {"astro_master.avi": "ok", "broken_master.avi": "failed"}


def test_rerun_skips_finished_videos_and_rebuilds(fer_warehouse: FerWarehouse) -> None:
    second = fer_warehouse.second
    assert second.exit_code == 1, second.output  # broken_master.avi still fails
    assert "0 processed, 1 skipped (already done), 1 failed" in second.stdout
    assert "built fct_fer_frames" in second.stdout
    n_ok = _rows(fer_warehouse.db, "select count(*) from raw.fer_videos where status = 'ok'")
    assert n_ok == [(1,)]


def test_one_row_per_video_frame_and_face_keeping_faceless_frames(
    fer_warehouse: FerWarehouse,
) -> None:
    db = fer_warehouse.db
    ((n_rows, n_raw, n_frames, n_keys),) = _rows(
        db,
        """
        select
            count(*),
            (select count(*) from raw.fer_frames where video_file = 'astro_master.avi'),
            count(distinct frame_index),
            count(distinct (frame_index, face_index)),
        from fct_fer_frames
        """,
    )
    assert n_frames == N_FRAMES
    assert n_rows == n_raw == n_keys >= N_FRAMES  # one per frame, plus any extra faces
    faceless = {
        f for (f,) in _rows(db, "select frame_index from fct_fer_frames where not has_face")
    }
    assert faceless == FACELESS
    assert _rows(db, "select distinct video_file, camera_view, fer_mode from fct_fer_frames") == [
        ("astro_master.avi", "master", "exact")
    ]


def test_video_frames_show_the_utterance_frames_whose_start_they_contain(
    fer_warehouse: FerWarehouse,
) -> None:
    db = fer_warehouse.db
    linked = set(
        _rows(
            db,
            "select utterance_id, utterance_frame_index, frame_index from fct_fer_frames"
            " where utterance_id is not null",
        )
    )
    # With 30-fps video and the default floor convention this is fct_frames.media_frame.
    expected = set(
        _rows(
            db,
            "select utterance_id, frame_index, media_frame from fct_frames"
            " where utterance_id in (1, 2)",
        )
    )
    assert linked == expected
    assert min(v for u, _, v in linked if u == 1) == 3  # starts at 100 ms: frame 3
    assert min(v for u, _, v in linked if u == 2) == 30  # starts at 1033 ms: frame 30
    outside = {
        f for (f,) in _rows(db, "select frame_index from fct_fer_frames where utterance_id is null")
    }
    assert outside == set(range(N_FRAMES)) - {v for _, _, v in linked}


def test_fer_features_land_on_the_utterance_frames_with_a_face(
    fer_warehouse: FerWarehouse,
) -> None:
    db = fer_warehouse.db
    features = _rows(
        db,
        "select utterance_id, frame_index, feature, feature_kind from fct_frame_features"
        " where feature like 'fer:%'",
    )
    largest = _rows(
        db,
        """
        select utterance_id, utterance_frame_index, 'fer:' || arg_max(top_emotion, box_w * box_h)
        from fct_fer_frames
        where has_face and utterance_id is not null
        group by all
        """,
    )
    assert {(u, f, feature) for u, f, feature, _ in features} == set(largest)
    assert {kind for *_, kind in features} == {"fer"}
    happy = [row for row in features if row[2] == "fer:happy"]
    assert len(happy) >= 0.9 * len(features) > 0  # the astronaut smiles
    assert {u for u, *_ in features} == {1, 2}  # utterances 3 and 4 have no usable video
    on_faceless = _rows(
        db,
        """
        select count(*)
        from fct_frame_features as ff
        inner join fct_fer_frames as fer
            on ff.utterance_id = fer.utterance_id and ff.frame_index = fer.utterance_frame_index
        where ff.feature like 'fer:%' and not fer.has_face
        """,
    )
    assert on_faceless == [(0,)]
    assert _rows(db, "select feature_kind from dim_features where feature = 'fer:happy'") == [
        ("fer",)
    ]


def test_the_video_link_follows_the_frame_convention(
    fer_warehouse: FerWarehouse, tmp_path: Path
) -> None:
    """Under `nearest`, utterance 2 (1033 ms, SignStream's truncated start of frame 31)
    starts on frame 31, and the FER link moves with it: the video frame each utterance frame
    shows is still its `fct_frames.media_frame`."""
    db = tmp_path / "nearest.duckdb"
    shutil.copyfile(fer_warehouse.db, db)
    built = _invoke(db, "build", "--frame-convention", "nearest")
    assert built.exit_code == 0, built.output
    linked = set(_rows(db, "select utterance_id, utterance_frame_index, frame_index"
                           " from fct_fer_frames where utterance_id is not null"))
    expected = set(_rows(db, "select utterance_id, frame_index, media_frame from fct_frames"
                             " where utterance_id in (1, 2)"))
    assert linked == expected
    assert min(v for u, _, v in linked if u == 2) == 31
