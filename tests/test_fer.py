"""FER over videos: fer's recipe reproduced, faces-less frames kept, fast mode, resume, errors.

Videos are generated in tmp from scikit-image's astronaut photo (a real, smiling face):
640x480 so the face is above fer's 50 px minimum, with frames 24-29 of every 30 face-less.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import duckdb
import numpy as np
import pyarrow as pa
import pytest

from ingest.fer import load_fer_results, status_row
from pipeline.fer import run_fer
from signaffect.fer_engine.detect import HaarDetector, face_crops, match_boxes
from signaffect.fer_engine.detector_settings import DetectorSettings
from signaffect.fer_engine.model import (
    EMOTIONS,
    EmotionClassifier,
    model_hash,
    model_path,
    preprocess,
)
from signaffect.fer_engine.schema import FER_FRAMES_SCHEMA, VideoKey
from signaffect.fer_engine.synthetic import write_test_video
from signaffect.fer_engine.video import FerVideoError, analyse_video

N_FRAMES = 36  # faces in 0-23 and 30-35, none in 24-29
ABSENT = set(range(24, 30))


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_video(tmp_path_factory.mktemp("fer") / "astronaut.avi", n_frames=N_FRAMES)


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier()


@pytest.fixture(scope="module")
def exact(video: Path, classifier: EmotionClassifier) -> pa.Table:
    return analyse_video(video, mode="exact", classifier=classifier)


@pytest.fixture(scope="module")
def fast(video: Path, classifier: EmotionClassifier) -> pa.Table:
    return analyse_video(video, mode="fast", classifier=classifier)


def _frame(path: Path, index: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    try:
        for _ in range(index + 1):
            ok, frame = capture.read()
            assert ok
        return frame
    finally:
        capture.release()


def _rows_by_frame(table: pa.Table) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for row in table.to_pylist():
        out.setdefault(row["frame_index"], []).append(row)
    return out


def test_schema_and_one_row_per_face_or_faceless_frame(exact: pa.Table, video: Path) -> None:
    assert exact.schema.equals(FER_FRAMES_SCHEMA, check_metadata=False)
    capture = cv2.VideoCapture(str(video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == N_FRAMES
    assert exact.schema.metadata[b"n_frames"] == str(N_FRAMES).encode()
    frames = _rows_by_frame(exact)
    assert sorted(frames) == list(range(N_FRAMES))
    for index, rows in frames.items():
        if index in ABSENT:
            assert len(rows) == 1, index
            (row,) = rows
            assert row["has_face"] is False
            assert row["face_index"] is None and row["top_emotion"] is None
            assert all(row[e] is None for e in EMOTIONS) and row["box_x"] is None
        else:
            assert all(r["has_face"] for r in rows), index
            assert [r["face_index"] for r in rows] == list(range(len(rows)))
    assert frames[3][0]["time_ms"] == pytest.approx(100.0)
    assert set(exact.column("mode").to_pylist()) == {"exact"}
    assert set(exact.column("model_hash").to_pylist()) == {model_hash()}


def test_astronaut_is_happy(exact: pa.Table) -> None:
    faces = [r for r in exact.to_pylist() if r["has_face"]]
    astronaut: dict[int, dict] = {}
    for r in faces:  # fer's Haar cascade flickers on the collar below; the face is topmost
        if r["frame_index"] not in astronaut or r["box_y"] < astronaut[r["frame_index"]]["box_y"]:
            astronaut[r["frame_index"]] = r
    assert len(astronaut) == N_FRAMES - len(ABSENT)
    assert all(r["top_emotion"] == "happy" for r in astronaut.values())
    for r in faces:
        assert sum(r[e] for e in EMOTIONS) == pytest.approx(1.0, abs=0.04)  # rounded to 0.01


def _fer_recipe(frame: np.ndarray) -> list[tuple[tuple[int, ...], list[float]]]:
    """fer 25.10.3 `FER().detect_emotions(frame)` step by step, from fer/fer.py.

    fer.fer imports TensorFlow at module level, so it cannot be imported here; the steps below
    follow its source, and the model runs one face per invoke as FER._classify_emotions does.
    """
    from ai_edge_litert.interpreter import Interpreter

    # FER.__init__: cascade from cv2.data; scale_factor 1.1, min_neighbors 5, min_face 50.
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    # detect_emotions: gray once, find_faces(img, bgr=True, gray_img=gray).
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    rects = cascade.detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=5, flags=cv2.CASCADE_SCALE_IMAGE, minSize=(50, 50)
    )
    # FER.pad: PADDING = 40, constant border = cv2.mean of the bottom two rows.
    rows, cols = gray.shape[:2]
    mean = cv2.mean(gray[rows - 2 : rows, 0:cols])[0]
    gray = cv2.copyMakeBorder(gray, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=[mean] * 3)
    faces, kept = [], []
    for rect in rects:
        x, y, w, h = rect  # FER.tosquare
        if h > w:
            x, w = x - (h - w) // 2, h
        elif w > h:
            y, h = y - (w - h) // 2, w
        x1, x2, y1, y2 = x - 10, x + w + 10, y - 10, y + h + 10  # __apply_offsets (10, 10)
        x1, y1, x2, y2 = x1 + 40, y1 + 40, x2 + 40, y2 + 40  # account for padding
        x1, y1 = max(0, x1), max(0, y1)
        try:
            faces.append(cv2.resize(gray[y1:y2, x1:x2], (64, 64)))
        except cv2.error:
            continue
        kept.append(tuple(int(v) for v in rect))
    if not faces:
        return []
    batch = np.array(faces, dtype="float32")
    batch = batch / 255.0
    batch = (batch - 0.5) * 2.0
    batch = np.expand_dims(batch, -1)
    interpreter = Interpreter(model_path=str(model_path()))
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]["index"]
    out = interpreter.get_output_details()[0]["index"]
    result = []
    for box, face in zip(kept, batch, strict=True):
        interpreter.set_tensor(inp, face[np.newaxis].astype(np.float32))
        interpreter.invoke()
        scores = interpreter.get_tensor(out)[0]
        result.append((box, [round(float(s), 2) for s in scores]))  # labelled_emotions
    return result


@pytest.mark.parametrize("index", [5, 33])
def test_exact_mode_equals_fers_recipe(exact: pa.Table, video: Path, index: int) -> None:
    expected = _fer_recipe(_frame(video, index))
    assert expected, "the astronaut's face must be found"
    got = [
        ((r["box_x"], r["box_y"], r["box_w"], r["box_h"]), [r[e] for e in EMOTIONS])
        for r in _rows_by_frame(exact)[index]
    ]
    assert got == expected  # boxes and rounded scores, bit for bit


def _one_invoke_per_face(faces: np.ndarray) -> np.ndarray:
    """fer's own loop (one LiteRT invoke per face): the reference the batched path must equal."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model_path()))
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    interpreter.resize_tensor_input(input_index, [1, 64, 64, 1])
    interpreter.allocate_tensors()
    rows = []
    for face in np.asarray(faces, dtype=np.float32)[..., np.newaxis]:
        interpreter.set_tensor(input_index, face[np.newaxis])
        interpreter.invoke()
        rows.append(interpreter.get_tensor(output_index)[0].copy())
    return np.array(rows, dtype=np.float32).reshape(-1, len(EMOTIONS))


def test_batched_classifier_equals_one_at_a_time(video: Path) -> None:
    gray = cv2.cvtColor(_frame(video, 10), cv2.COLOR_BGR2GRAY)
    _, crops = face_crops(gray, HaarDetector().detect(gray))
    noise = np.random.default_rng(1).integers(0, 256, (20, 64, 64), dtype=np.uint8)
    faces = preprocess(np.concatenate([np.stack(crops), noise]))
    reference = _one_invoke_per_face(faces)
    for batch_size in (1, 7, 64):
        assert np.array_equal(EmotionClassifier(batch_size=batch_size).predict(faces), reference)


def test_fast_mode_agrees_with_exact(exact: pa.Table, fast: pa.Table) -> None:
    exact_frames, fast_frames = _rows_by_frame(exact), _rows_by_frame(fast)
    assert sorted(fast_frames) == list(range(N_FRAMES))
    assert [i for i, rows in fast_frames.items() if not rows[0]["has_face"]] == sorted(ABSENT)
    diffs, agree, total = [], 0, 0
    for index, rows in exact_frames.items():
        for ref in (r for r in rows if r["has_face"]):
            ref_box = (ref["box_x"], ref["box_y"], ref["box_w"], ref["box_h"])
            candidates = [
                (g["box_x"], g["box_y"], g["box_w"], g["box_h"])
                for g in fast_frames[index]
                if g["has_face"]
            ]
            pairs = match_boxes([ref_box], candidates)
            if not pairs:
                continue  # a one-frame detector flicker that fast mode does not re-detect
            got = [g for g in fast_frames[index] if g["has_face"]][pairs[0]]
            total += 1
            agree += got["top_emotion"] == ref["top_emotion"]
            diffs += [abs(got[e] - ref[e]) for e in EMOTIONS]
    assert total >= N_FRAMES - len(ABSENT)
    assert agree >= 0.95 * total  # fer's collar flickers have near-uniform scores
    for index, rows in fast_frames.items():  # the astronaut herself: happy in every frame
        if index not in ABSENT:
            assert min(rows, key=lambda r: r["box_y"])["top_emotion"] == "happy", index
    assert sum(diffs) / len(diffs) <= 0.02
    assert set(fast.column("detector_settings").to_pylist()) == {
        DetectorSettings("fast", 0.5, 5).canonical()
    }


def test_detector_settings_are_canonical_and_validated() -> None:
    assert DetectorSettings().canonical() == (
        "exact;haar=frontalface_default;sf=1.1;mn=5;min=50;pad=40;off=10,10"
    )
    assert (
        DetectorSettings("fast", 0.5, 5).canonical().startswith("fast;scale=0.5;every=5;rescan=30;")
    )
    with pytest.raises(ValueError):
        DetectorSettings("fast", 0.0, 5)
    with pytest.raises(ValueError):
        DetectorSettings("slow")  # type: ignore[arg-type]


@pytest.fixture
def broken_videos(tmp_path: Path, video: Path) -> dict[str, Path]:
    data = video.read_bytes()
    empty = tmp_path / "empty.avi"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.avi"
    truncated.write_bytes(data[: len(data) // 2])
    mp4 = write_test_video(tmp_path / "whole.mp4", n_frames=6, fourcc="mp4v").read_bytes()
    cut_mp4 = tmp_path / "cut.mp4"
    cut_mp4.write_bytes(mp4[: len(mp4) // 2])  # the index (moov atom) is at the end: gone
    return {
        "empty": empty,
        "truncated": truncated,
        "cut_mp4": cut_mp4,
        "missing": tmp_path / "missing.avi",
    }


@pytest.mark.parametrize("kind", ["empty", "truncated", "cut_mp4", "missing"])
def test_unusable_video_raises_naming_the_file(broken_videos: dict[str, Path], kind: str) -> None:
    path = broken_videos[kind]
    with pytest.raises(FerVideoError, match=path.name):
        analyse_video(path, mode="fast")


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_run_fer_resumes_and_records_failures(
    tmp_path: Path, video: Path, broken_videos: dict[str, Path]
) -> None:
    from rich.console import Console
    from rich.progress import Progress

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    videos = [broken_videos["empty"], video, broken_videos["truncated"], broken_videos["missing"]]
    with Progress(console=Console(file=io.StringIO())) as progress:
        first = run_fer(con, videos, tmp_path / "shards", mode="fast", progress=progress)
    assert (first.processed, first.skipped, first.failed) == (1, 0, 3)
    statuses = dict(con.execute("select video_file, status from raw.fer_videos").fetchall())
    assert statuses == {
        "astronaut.avi": "ok",
        "empty.avi": "failed",
        "truncated.avi": "failed",
        "missing.avi": "failed",
    }
    ok = con.execute(
        "select n_frames, fps, width, height, error from raw.fer_videos where status = 'ok'"
    ).fetchone()
    assert ok == (N_FRAMES, 30.0, 640, 480, None)
    errors = [
        e
        for (e,) in con.execute("select error from raw.fer_videos where status='failed'").fetchall()
    ]
    assert any("zero-length" in e for e in errors) and any("truncated" in e for e in errors)
    n_rows = _count(con, "select count(*) from raw.fer_frames")
    assert _count(con, "select count(distinct frame_index) from raw.fer_frames") == N_FRAMES

    second = run_fer(con, videos, tmp_path / "shards", mode="fast")
    assert (second.processed, second.skipped, second.failed) == (0, 1, 3)
    assert _count(con, "select count(*) from raw.fer_frames") == n_rows
    assert _count(con, "select count(*) from raw.fer_videos") == 4  # failures replaced, not added


def test_interrupted_run_keeps_finished_videos(
    tmp_path: Path, video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signaffect.fer_engine.units as fer_units

    other = write_test_video(tmp_path / "other.avi", n_frames=12)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    real = fer_units.analyse_video

    def interrupted(path: Path, **kwargs: object) -> pa.Table:
        if Path(path).name == "other.avi":
            raise KeyboardInterrupt
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fer_units, "analyse_video", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_fer(con, [video, other], tmp_path / "shards", mode="fast")
    assert con.execute("select video_file, status from raw.fer_videos").fetchall() == [
        ("astronaut.avi", "ok")
    ]
    monkeypatch.setattr(fer_units, "analyse_video", real)
    resumed = run_fer(con, [video, other], tmp_path / "shards", mode="fast")
    assert (resumed.processed, resumed.skipped, resumed.failed) == (1, 1, 0)


def test_load_is_idempotent_per_key(tmp_path: Path, video: Path, fast: pa.Table) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    key = VideoKey(
        fast.column("video_hash")[0].as_py(), model_hash(), DetectorSettings("fast").canonical()
    )
    row = status_row(video, key, "fast", table=fast)
    load_fer_results(con, fast, [row])
    load_fer_results(con, fast, [row])
    assert _count(con, "select count(*) from raw.fer_frames") == fast.num_rows
    assert _count(con, "select count(*) from raw.fer_videos") == 1
    # Another detector setting is another key: both coexist.
    other = fast.set_column(
        fast.schema.get_field_index("detector_settings"),
        "detector_settings",
        pa.array(["exact;x"] * fast.num_rows),
    )
    load_fer_results(con, other, [{**row, "detector_settings": "exact;x"}])
    assert _count(con, "select count(*) from raw.fer_frames") == 2 * fast.num_rows
