"""FER at scale: chunked units, Parquet shards, local processes and Ray give the same bits.

Four short synthetic videos (signaffect.fer_engine.synthetic) in fast mode, split into two
chunks each; Ray runs on a local cluster of 2 CPUs started once for the module.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from ingest.fer import load_shards
from pipeline.fer import run_fer
from signaffect.fer_engine.detector_settings import DetectorSettings
from signaffect.fer_engine.engines import LocalEngine, RayEngine
from signaffect.fer_engine.model import model_hash
from signaffect.fer_engine.schema import VideoKey
from signaffect.fer_engine.synthetic import write_test_video
from signaffect.fer_engine.units import FerUnit, UnitResult, plan_units
from signaffect.fer_engine.video import analyse_video, video_hash

N_FRAMES = 40
CHUNK = 20  # fast mode rounds it up to its restart period (30): chunks 0-29 and 30-39


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("fer_scale")
    return [write_test_video(folder / f"clip{i}.avi", n_frames=N_FRAMES + i) for i in range(4)]


class Recording:
    """An engine that remembers which units it was given."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.units = engine, []  # type: ignore[var-annotated]

    def run(self, units: Sequence[FerUnit], progress: Any = None) -> Iterator[UnitResult]:
        self.units += list(units)
        return self.engine.run(units, progress)


def _frames(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select * from raw.fer_frames order by all").fetchall()


def _run(tmp: Path, videos: list[Path], engine: Any) -> tuple[duckdb.DuckDBPyConnection, Any]:
    con = duckdb.connect(str(tmp / "w.duckdb"))
    summary = run_fer(con, videos, tmp / "shards", mode="fast", engine=engine, chunk_frames=CHUNK)
    return con, summary


@pytest.mark.parametrize(
    ("mode", "n_frames", "chunk", "expected"),
    [
        ("exact", 10, 4, [(0, 4), (4, 8), (8, None)]),
        ("fast", N_FRAMES, 16, [(0, 30), (30, None)]),  # rounded up to the restart period
    ],
)
def test_chunks_equal_the_whole_video(
    tmp_path: Path, mode: str, n_frames: int, chunk: int, expected: list
) -> None:
    video = write_test_video(tmp_path / "clip.avi", n_frames=n_frames)
    settings = DetectorSettings(mode)  # type: ignore[arg-type]
    key = VideoKey(video_hash(video), model_hash(), settings.canonical())
    units = plan_units(video, key, settings, n_frames, chunk_frames=chunk)
    assert [(u.start, u.stop) for u in units] == expected
    whole = analyse_video(video, mode=settings.mode, workers=1)
    parts = [
        analyse_video(video, mode=settings.mode, workers=1, start=u.start, stop=u.stop)
        for u in units
    ]
    assert [int(p.schema.metadata[b"n_frames"]) for p in parts] == [
        (u.stop or n_frames) - u.start for u in units
    ]
    assert pa.concat_tables(parts).to_pylist() == whole.to_pylist()


def test_ray_and_local_processes_give_bit_identical_scores(
    tmp_path: Path, videos: list[Path], ray_cluster: None
) -> None:
    results = {}
    for name, engine in {
        "in_process": LocalEngine(1),
        "processes": LocalEngine(2),
        "ray": RayEngine(),
    }.items():
        (tmp_path / name).mkdir()
        con, summary = _run(tmp_path / name, videos, engine)
        assert (summary.processed, summary.skipped, summary.failed) == (4, 0, 0), name
        results[name] = _frames(con)
        assert con.execute("select count(*) from raw.fer_videos where status = 'ok'").fetchone()
        con.close()
    assert len(results["ray"]) >= 4 * N_FRAMES
    assert results["ray"] == results["processes"] == results["in_process"]


def test_a_corrupt_video_fails_alone_and_a_rerun_skips_finished_units(
    tmp_path: Path, videos: list[Path], ray_cluster: None
) -> None:
    corrupt = tmp_path / "corrupt.avi"  # opens, then breaks off halfway: fails in the units
    data = videos[1].read_bytes()
    corrupt.write_bytes(data[: len(data) // 2])
    batch = [videos[0], corrupt, videos[2]]
    engine = Recording(RayEngine())
    con, first = _run(tmp_path, batch, engine)
    assert (first.processed, first.skipped, first.failed) == (2, 0, 1)
    ((path, error),) = first.failures
    assert path == str(corrupt) and "corrupt.avi: truncated" in error and "\n" not in error
    statuses = dict(con.execute("select video_file, status from raw.fer_videos").fetchall())
    assert statuses == {"clip0.avi": "ok", "corrupt.avi": "failed", "clip2.avi": "ok"}
    loaded = con.execute("select distinct video_file from raw.fer_frames").fetchall()
    assert {f for (f,) in loaded} == {"clip0.avi", "clip2.avi"}
    n_rows = len(_frames(con))
    con.close()

    engine.units.clear()
    con, second = _run(tmp_path, batch, engine)  # loaded videos skipped, the corrupt one redone
    assert (second.processed, second.skipped, second.failed) == (0, 2, 1)
    assert {u.path for u in engine.units} == {str(corrupt)}
    assert len(_frames(con)) == n_rows
    con.close()

    engine.units.clear()
    (tmp_path / "w.duckdb").unlink()  # a new warehouse: finished units come from the shards
    con, third = _run(tmp_path, batch, engine)
    assert (third.processed, third.skipped, third.failed) == (2, 0, 1)
    assert {u.path for u in engine.units} == {str(corrupt)}
    assert len(_frames(con)) == n_rows
    con.close()


def test_a_unit_that_keeps_raising_is_retried_then_reported(
    ray_cluster: None, videos: list[Path]
) -> None:
    settings = DetectorSettings("fast")
    alien = VideoKey(video_hash(videos[0]), "another-model", settings.canonical())
    (result,) = RayEngine().run([FerUnit(str(videos[0]), alien, settings)])
    assert result.table is None and result.error is not None
    assert "failed 3 times: RuntimeError" in result.error and "\n" not in result.error


def test_in_process_retries_then_reports_and_keeps_the_others(
    tmp_path: Path, videos: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import signaffect.fer_engine.units as fer_units

    real, calls = fer_units.analyse_video, []

    def flaky(path: str, **kwargs: Any) -> pa.Table:
        calls.append(Path(path).name)
        if Path(path).name == "clip1.avi":
            raise RuntimeError("worker lost\nsecond line")
        return real(path, **kwargs)

    monkeypatch.setattr(fer_units, "analyse_video", flaky)
    con, summary = _run(tmp_path, videos[:2], LocalEngine(1))
    assert (summary.processed, summary.failed) == (1, 1)
    assert calls.count("clip1.avi") == 2 * 3  # two chunks, three attempts each
    error = con.execute("select error from raw.fer_videos where status = 'failed'").fetchone()
    assert error is not None and error[0].endswith(
        "failed 3 times: RuntimeError: worker lost (and 1 more chunk(s))"
    )


def test_shards_load_idempotently(tmp_path: Path, videos: list[Path]) -> None:
    con, _ = _run(tmp_path, videos[:2], LocalEngine(1))
    expected = _frames(con)
    videos_before = con.execute("select count(*) from raw.fer_videos").fetchone()
    con.close()
    fresh = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    assert load_shards(fresh, tmp_path / "shards") == 2
    assert load_shards(fresh, tmp_path / "shards") == 2
    assert _frames(fresh) == expected
    assert fresh.execute("select count(*) from raw.fer_videos").fetchone() == videos_before


def test_ray_missing_or_misused_is_one_line_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, videos: list[Path]
) -> None:
    from typer.testing import CliRunner

    from cli import app
    from signaffect.core.errors import SignAffectError

    runner = CliRunner()
    misused = runner.invoke(app, ["fer", str(videos[0]), "--address", "auto"])
    assert misused.exit_code == 2 and "--address needs --engine ray" in misused.output
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the scale extra were not installed
    with pytest.raises(SignAffectError, match="needs Ray") as caught:
        RayEngine()
    assert caught.value.hint is not None and "scale extra" in caught.value.hint
