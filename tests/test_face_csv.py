"""`cli.py ingest --face-csv`: tracker output matched to the real corpus by media file name.

The CSVs are written by the test in OpenFace 2.x's exact layout (tests/face_synth.py: header
and values separated by ", "), since the corpus ships no video and no tracker output; their
faces are synthetic. Bad input (a missing column, frames that are not the video's, a name
no media file has) is one line naming the file and the column, and loads nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner, Result

from cli import app
from signaffect.face_engine.tracker_csv import BLENDSHAPES
from tests.face_synth import HEADER, coded_media_frames, write_openface_csv
from tests.fault_tools import stopped_at

runner = CliRunner()
STORY = "ncslgr10k.xml"  # 20 utterances, each with its own master clip
MEDIA = "b-886_703_master_small.mov"  # utterance 5's master clip, brows raised on 43 frames


def invoke(db: Path, *args: str) -> Result:
    return runner.invoke(app, ["--db", str(db), "--quiet", *args])


@pytest.fixture(scope="module")
def corpus_only(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    """A warehouse holding one real story, ingested (not built)."""
    db = tmp_path_factory.mktemp("face_csv") / "warehouse.duckdb"
    done = invoke(db, "ingest", str(corpus_dir / STORY), "--no-lexicons")
    assert done.exit_code == 0, done.output
    return db


@pytest.fixture
def db(corpus_only: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "warehouse.duckdb"
    copy.write_bytes(corpus_only.read_bytes())
    yield copy


def face_rows(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select media_file, source, source_file, video_frame, time_ms, face_found,"
            " head_pitch_deg, head_yaw_deg, head_roll_deg, brow_inner_left, inter_ocular_px,"
            " scores['AU01_r'], len(landmarks_x) from raw.face_frames order by all"
        ).fetchall()
    finally:
        con.close()


def clip(db: Path) -> tuple[int, set[int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return coded_media_frames(con, "eye brows", "raised")[MEDIA]
    finally:
        con.close()


def test_an_openface_csv_lands_in_raw_face_frames_in_the_contract(db: Path, tmp_path: Path):
    n_frames, raised = clip(db)
    csv = tmp_path / "b-886_703_master_small.csv"
    write_openface_csv(csv, n_frames, raised, no_face=[5])
    assert csv.read_text().startswith("frame, face_id, timestamp, confidence, success, pose_Tx")
    done = invoke(db, "ingest", "--face-csv", str(csv))
    assert done.exit_code == 0, done.output
    assert f"{n_frames} face frames" in done.output
    rows = face_rows(db)
    assert len(rows) == n_frames
    first = rows[0]
    assert first[:6] == (MEDIA, "openface_csv", csv.name, 0, 0.0, True)
    assert rows[1][4] == pytest.approx(33.0)  # OpenFace's timestamp is seconds, to 3 decimals
    assert first[10] == pytest.approx(60.0, abs=0.5)  # the template's eye-centre distance
    assert first[9] == pytest.approx(0.5, abs=0.1)  # brows 30 px above 60 px-apart eyes
    assert first[12] == 68 and first[11] is not None
    lost = rows[5]
    assert lost[5] is False and lost[6:] == (None,) * 5 + (None, None)
    # Re-running replaces the file's rows: the same table, no duplicates.
    assert invoke(db, "ingest", "--face-csv", str(csv)).exit_code == 0
    assert face_rows(db) == rows
    brows = np.array([r[9] for r in rows if r[5]])
    frames = np.array([r[3] for r in rows if r[5]])
    on = np.isin(frames, list(raised))
    assert raised and brows[on].mean() > brows[~on].mean() + 0.1


def test_openface_pose_becomes_the_contracts_degrees_and_signs(db: Path, tmp_path: Path):
    """OpenFace's Rx is positive chin down; the contract's pitch is positive chin up."""
    n_frames, _ = clip(db)
    csv = tmp_path / f"{MEDIA}.csv"  # the media file's full name + .csv also matches
    write_openface_csv(csv, n_frames, [])
    lines = csv.read_text().splitlines()
    rx = HEADER.index("pose_Rx")
    cells = lines[1].split(", ")
    cells[rx : rx + 3] = ["-0.100", "0.200", "0.050"]
    lines[1] = ", ".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    assert invoke(db, "ingest", "--face-csv", str(csv)).exit_code == 0
    pitch, yaw, roll = face_rows(db)[0][6:9]
    assert (pitch, yaw, roll) == pytest.approx((5.7296, 11.4592, 2.8648), abs=1e-3)


def test_a_mediapipe_blendshape_csv_keeps_its_scores(db: Path, tmp_path: Path):
    n_frames, _ = clip(db)
    csv = tmp_path / "b-886_703_master_small.csv"
    values = np.random.default_rng(0).random((n_frames, len(BLENDSHAPES)))
    header = "frame,timestamp_ms," + ",".join(BLENDSHAPES)
    body = "\n".join(f"{i},{i * 1000 / 30:.3f}," + ",".join(f"{v:.4f}" for v in row)
                     for i, row in enumerate(values))  # fmt: skip
    csv.write_text(header + "\n" + body + "\n")
    assert invoke(db, "ingest", "--face-csv", str(csv)).exit_code == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = con.execute(
            "select count(*), min(source), round(avg(scores['browInnerUp']), 4),"
            " count(brow_inner_left) from raw.face_frames"
        ).fetchall()[0]
    finally:
        con.close()
    assert found == (n_frames, "mediapipe_csv", pytest.approx(values[:, 3].mean(), abs=1e-3), 0)


def bad_csv(tmp_path: Path, n_frames: int, problem: str) -> tuple[Path, str]:
    """A CSV with one `problem`, and the one line the error must give."""
    name = "b-886_703_master_small.csv"
    csv = tmp_path / name
    if problem == "name":
        csv = tmp_path / "b-999_master_small.csv"
        write_openface_csv(csv, n_frames, [])
        return csv, f"{csv}: file name: no corpus media file is named 'b-999_master_small'"
    write_openface_csv(csv, n_frames if problem != "short" else 30, [])
    lines = csv.read_text().splitlines()
    if problem == "column":
        cells = [line.split(", ") for line in lines]
        drop = HEADER.index("y_30")
        lines = [", ".join(c[:drop] + c[drop + 1 :]) for c in cells]
        message = f"{csv}: column y_30: missing (openface_csv: y_30)"
    elif problem == "gap":
        del lines[11]
        message = f"{csv}: column frame: frame 11 of 1-{n_frames} is missing"
    elif problem == "short":
        message = f"{csv}: column frame: 30 frames end at 1000 ms, but the corpus's utterances"
    else:
        raise AssertionError(problem)
    csv.write_text("\n".join(lines) + "\n")
    return csv, message


@pytest.mark.parametrize("problem", ["column", "gap", "short", "name"])
def test_bad_csvs_are_one_line_and_load_nothing(db: Path, tmp_path: Path, problem: str):
    n_frames, _ = clip(db)
    good = tmp_path / "good" / "b-882_699_master_small.csv"
    good.parent.mkdir()
    write_openface_csv(good, 80, [])
    csv, message = bad_csv(tmp_path, n_frames, problem)
    done = invoke(db, "ingest", "--face-csv", str(good), "--face-csv", str(csv))
    assert done.exit_code == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], done.stderr
    assert "Traceback" not in done.output
    assert face_rows(db) == []  # the good file was not loaded either


def test_a_frame_count_other_than_the_decoded_videos_is_refused(db: Path, tmp_path: Path):
    """When FER decoded the video, its frame count is the one the CSV must have."""
    n_frames, _ = clip(db)
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "insert into raw.fer_videos (video_file, video_path, video_hash, model_hash,"
            " detector_settings, mode, n_frames, fps, status, analysed_at) values"
            " (?, '/v/' || ?, 'h', 'm', 'exact', 'exact', ?, 30.0, 'ok', now())",
            [MEDIA, MEDIA, n_frames + 5],
        )
    finally:
        con.close()
    csv = tmp_path / "b-886_703_master_small.csv"
    write_openface_csv(csv, n_frames, [])
    done = invoke(db, "ingest", "--face-csv", str(csv))
    assert done.exit_code == 1
    assert (f"{csv}: column frame: {n_frames} frames, but its video has {n_frames + 5}"
            in done.stderr)  # fmt: skip
    assert face_rows(db) == []


def test_a_load_killed_before_its_commit_leaves_the_rows_as_they_were(db: Path, tmp_path: Path):
    n_frames, raised = clip(db)
    csv = tmp_path / "b-886_703_master_small.csv"
    write_openface_csv(csv, n_frames, raised, seed=1)
    assert invoke(db, "ingest", "--face-csv", str(csv)).exit_code == 0
    before = face_rows(db)
    write_openface_csv(csv, n_frames, raised, seed=2)  # new values for the same media file
    args = ["--db", str(db), "--quiet", "ingest", "--face-csv", str(csv)]
    with stopped_at(args, "ingest.commit") as proc:
        proc.kill()
        proc.wait()
    assert face_rows(db) == before
