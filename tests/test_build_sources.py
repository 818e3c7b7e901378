"""`cli.py build` works on any subset of sources: here FER results with no corpus, whose
video frames then have no utterance link (and `cli.py fer` keeps LiteRT's log off stderr)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from cli import app
from signaffect.fer_engine.synthetic import write_test_video
from tests.fault_tools import run_cli


def test_a_warehouse_of_fer_results_alone_builds(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    write_test_video(video, n_frames=10)
    db = tmp_path / "w.duckdb"
    analysed = run_cli(["--db", str(db), "--quiet", "fer", str(video)])  # a process: fd 2
    assert analysed.returncode == 0, analysed.stderr
    assert "XNNPACK" not in analysed.stderr  # LiteRT's own log line stays off stderr
    built = CliRunner().invoke(app, ["--db", str(db), "--quiet", "build"])
    assert built.exit_code == 0, built.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        frames, linked = con.execute(
            "select count(*), count(utterance_id) from fct_fer_frames"
        ).fetchall()[0]
        n_frames = con.execute("select count(*) from fct_frames").fetchall()[0][0]
    finally:
        con.close()
    assert frames >= 10 and linked == 0 and n_frames == 0
