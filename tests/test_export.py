"""The exported frame dataset round-trips: DuckDB and polars read back the warehouse's rows,
and a re-export replaces the folder instead of adding to it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from cli import app
from read.export import EXPORTS, export_dataset
from signaffect.core.errors import SignAffectError
from tests.conftest import scalar

#: Each exported table and the warehouse query that counts its rows.
WAREHOUSE_COUNTS = {
    "frames": "select count(*) from fct_frames",
    "frame_features": "select count(*) from fct_frame_features",
    "features": "select count(*) from dim_features",
    "utterances": "select count(*) from dim_utterances",
    "signers": "select count(*) from dim_signers",
    "lexical_labels": "select count(*) from fct_frame_features where feature_kind = 'lexical'",
}
PARTITIONED = {e.name for e in EXPORTS if e.partitioned}


@pytest.fixture(scope="module")
def exported(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("export") / "dataset"
    return out, export_dataset(sample_db, out)


def glob_of(out: Path, name: str) -> str:
    return (
        str(out / name / "*" / "*.parquet") if name in PARTITIONED else str(out / f"{name}.parquet")
    )


def read_duckdb(out: Path, name: str) -> int:
    con = duckdb.connect()
    try:
        rows = con.execute(
            "select count(*) from read_parquet($path, hive_partitioning = true)",
            {"path": glob_of(out, name)},
        ).fetchall()
        return int(rows[0][0])
    finally:
        con.close()


def read_polars(out: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(glob_of(out, name), hive_partitioning=name in PARTITIONED)


def test_every_table_round_trips(exported: tuple[Path, dict], sample_db: Path) -> None:
    out, rows = exported
    assert set(rows) == set(WAREHOUSE_COUNTS)
    for name, sql in WAREHOUSE_COUNTS.items():
        expected = scalar(sample_db, sql)
        assert rows[name] == expected, name
        assert read_duckdb(out, name) == expected, name
        assert read_polars(out, name).height == expected, name


def test_frame_tables_are_partitioned_by_story(
    exported: tuple[Path, dict], sample_db: Path
) -> None:
    out, _ = exported
    stories = {p.name for p in (out / "frames").iterdir()}
    con = duckdb.connect(str(sample_db), read_only=True)
    per_story = dict(
        con.execute("select story, count(*) from fct_frames group by story").fetchall()
    )
    con.close()
    assert stories == {f"story={s}" for s in per_story}
    frames = read_polars(out, "frames")
    assert dict(frames.group_by("story").len().iter_rows()) == per_story
    features = read_polars(out, "frame_features")
    assert set(features.get_column("story").unique()) == set(per_story)
    labels = read_polars(out, "lexical_labels")
    assert labels.columns[:5] == ["source_file", "story", "utterance_id", "frame_index", "label"]
    assert labels.get_column("label").str.contains(":").all()


def test_card_describes_files_counts_and_licences(exported: tuple[Path, dict]) -> None:
    out, rows = exported
    card = (out / "README.md").read_text(encoding="utf-8")
    for export in EXPORTS:
        assert f"{rows[export.name]:,}" in card
        assert export.grain in card
    for text in (
        "Carol Neidle",
        "Neidle, C. and Vogler, C. (2012)",
        "LREC 2012",
        "Empath",
        "MIT",
        "Mohammad",
        "Turney",
        "LIWC",
        "cli.py export --elan",  # the way to check the data against the video
    ):
        assert text in card, text


def test_re_export_replaces_the_folder(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    first = export_dataset(sample_db, out)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    (out / "frames" / "story=stale").mkdir()
    (out / "frames" / "story=stale" / "old.parquet").write_bytes(b"stale")
    second = export_dataset(sample_db, out)
    assert second == first
    assert sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file()) == files
    assert read_duckdb(out, "frames") == first["frames"]
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]  # no staging folders left


def test_a_foreign_folder_is_never_replaced(sample_db: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SignAffectError, match="holds no earlier SignAffect export"):
        export_dataset(sample_db, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_cli_export_prints_counts(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = CliRunner().invoke(app, ["--db", str(sample_db), "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == str(out.resolve())
    counts = dict(line.split("\t") for line in lines[:-1])
    assert int(counts["frames"]) == scalar(sample_db, WAREHOUSE_COUNTS["frames"])
