"""FER wired to the corpus: `cli.py fer --videos DIR` → raw.fer_* → fct_fer_frames → fer features.

A one-story corpus written in tmp references four master media files: an astronaut video
(generated, 60 frames at 30 fps, faces in frames 0-23 and 30-53), a zero-length file, a
file that is not in the folder, and (in view slave1) a file the master run must ignore.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import Result
from typer.testing import CliRunner

from cli import app
from signaffect.fer_engine.synthetic import write_test_video

N_FRAMES = 60
FACELESS = {i for i in range(N_FRAMES) if i % 30 >= 24}  # synthetic.default_absent

# Utterance 1 starts on a video-frame boundary (100 ms = frame 3), utterance 2 at SignStream's
# truncated start of frame 31 (1033 ms, which lies in frame 30); 3 and 4 show unusable media.
STORY_XML = """\
<SIGNSTREAM-DATABASE DATABASE-VERSION="1.1" SIGNSTREAM-VERSION="2" SOURCE="">
<DISTRIBUTOR>SignAffect tests.</DISTRIBUTOR>
<AUTHOR>Invented for tests/test_fer_warehouse.py.</AUTHOR>
<PARTICIPANTS>
<PARTICIPANT AGE="41" GENDER="female" ID="0" LABEL="Riley" LANGUAGE="ASL" NAME="Riley Okafor">
<BACKGROUND></BACKGROUND>
</PARTICIPANT>
</PARTICIPANTS>
<CODING-SCHEME>
<FIELD CONSTRAINT="free-text" ID="10" LABEL="eye brows" NAME="eye brows">
<VALUE ID="2" LABEL="raised" NAME="raised"/>
<VALUE ID="3" LABEL="lwrd" NAME="lowered"/>
<VALUE ID="400000" NAME="HOLD"/>
<VALUE ID="400001" NAME="ONSET"/>
<VALUE ID="400002" NAME="OFFSET"/>
</FIELD>
<FIELD CONSTRAINT="free-text" ID="10000" LABEL="main gloss" NAME="main gloss">
<VALUE ID="400000" NAME="HOLD"/>
<VALUE ID="400001" NAME="ONSET"/>
<VALUE ID="400002" NAME="OFFSET"/>
</FIELD>
<FIELD CONSTRAINT="free-text" ID="20001" LABEL="english" NAME="English translation">
<VALUE ID="400000" NAME="HOLD"/>
<VALUE ID="400001" NAME="ONSET"/>
<VALUE ID="400002" NAME="OFFSET"/>
</FIELD>
</CODING-SCHEME>
<MEDIA-FILES>
<MEDIA-FILE ID="1" LEGACY-PATH="T:master:astro_master.avi"/>
<MEDIA-FILE ID="2" LEGACY-PATH="T:master:broken_master.avi"/>
<MEDIA-FILE ID="3" LEGACY-PATH="T:master:gone_master.avi"/>
<MEDIA-FILE ID="4" LEGACY-PATH="T:slave1:astro_slave1.avi"/>
</MEDIA-FILES>
<UTTERANCES>
{utterances}
</UTTERANCES>
</SIGNSTREAM-DATABASE>
"""

UTTERANCE = """\
<UTTERANCE E="{e}" EXCERPT="HAPPY" ID="{uid}" S="{s}">
<NOTES></NOTES>
{refs}
<SEGMENT PARTICIPANT-ID="0" PRIMARY="true">
<TRACK FID="10">
<A E="{span}" S="0" VID="2"/>
</TRACK>
<TRACK FID="10000">
<A E="{span}" S="0">HAPPY</A>
</TRACK>
<TRACK FID="20001">
<A E="{span}" S="0">I am happy.</A>
</TRACK>
</SEGMENT>
</UTTERANCE>"""

UTTERANCES = [  # (id, S, E, media ids)
    (1, 100, 900, [1, 4]),
    (2, 1033, 1900, [1]),
    (3, 0, 500, [2]),
    (4, 0, 500, [3]),
]

runner = CliRunner()


@dataclass
class FerWarehouse:
    db: Path
    videos: Path
    first: Result
    second: Result


def _invoke(db: Path, *args: str) -> Result:
    return runner.invoke(app, ["--db", str(db), "--quiet", *args])


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def write_astro_story(root: Path) -> tuple[Path, Path]:
    """The one-story corpus in `root/corpus` and its smiling master video in `root/videos`."""
    corpus = root / "corpus"
    corpus.mkdir()
    utterances = "\n".join(
        UTTERANCE.format(
            uid=uid, s=s, e=e, span=e - s, refs="\n".join(f'<MEDIA-REF ID="{m}"/>' for m in refs)
        )
        for uid, s, e, refs in UTTERANCES
    )
    (corpus / "astro-story.xml").write_text(STORY_XML.format(utterances=utterances))
    videos = root / "videos"
    videos.mkdir()
    write_test_video(videos / "astro_master.avi", n_frames=N_FRAMES)
    return corpus, videos


@pytest.fixture(scope="module")
def fer_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FerWarehouse]:
    root = tmp_path_factory.mktemp("fer_warehouse")
    corpus, videos = write_astro_story(root)
    (videos / "broken_master.avi").write_bytes(b"")
    (videos / "astro_slave1.avi").write_bytes(b"")  # slave1: must not be analysed
    db = root / "warehouse.duckdb"

    ingested = _invoke(db, "ingest", str(corpus), "--no-lexicons")
    assert ingested.exit_code == 0, ingested.output
    first = _invoke(db, "fer", "--videos", str(videos))
    built = _invoke(db, "build")
    assert built.exit_code == 0, built.output
    second = _invoke(db, "fer", "--videos", str(videos))  # the warehouse is built: dbt runs
    yield FerWarehouse(db, videos, first, second)


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
