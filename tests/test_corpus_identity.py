"""The warehouse holds exactly the corpus asked for: a later corpus replaces an earlier one
(unless --add), a renamed file replaces its old rows, and stories can be removed."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from cli import app
from signaffect.core.settings import SAMPLE_CORPUS_DIR

runner = CliRunner()


def loaded(db: Path) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("select source_file, content_hash from raw.signstream_files").fetchall()
        hits = con.execute(
            "select count(*) from raw.lexicon_hits "
            "where source_file not in (select source_file from raw.signstream_files)"
        ).fetchall()
    finally:
        con.close()
    assert hits[0][0] == 0, "lexicon hits of a file that is no longer loaded"
    return dict(rows)


def cli(db: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", str(db), *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_second_corpus_replaces_the_first_unless_add(tmp_path: Path, corpus_dir: Path) -> None:
    db = tmp_path / "w.duckdb"
    assert cli(db, "ingest", str(SAMPLE_CORPUS_DIR))[0] == 0
    real = [str(corpus_dir / "ali.xml"), str(corpus_dir / "accident.xml")]
    code, _, stderr = cli(db, "ingest", *real)
    assert code == 0, stderr
    assert sorted(loaded(db)) == ["accident.xml", "ali.xml"]
    assert "removed 5 file(s)" in stderr
    code, _, _ = cli(db, "ingest", "--add", str(SAMPLE_CORPUS_DIR / "storm.xml"))
    assert code == 0
    assert sorted(loaded(db)) == ["accident.xml", "ali.xml", "storm.xml"]


def test_a_renamed_file_replaces_its_old_rows(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS_DIR, corpus, ignore=shutil.ignore_patterns("*.md"))
    db = tmp_path / "w.duckdb"
    assert cli(db, "ingest", str(corpus))[0] == 0
    before = loaded(db)
    (corpus / "storm.xml").rename(corpus / "storm-2019.xml")
    code, _, stderr = cli(db, "ingest", "--add", str(corpus))
    assert code == 0, stderr
    after = loaded(db)
    assert len(after) == len(before) == 5
    assert "storm.xml" not in after and after["storm-2019.xml"] == before["storm.xml"]
    assert "storm-2019.xml has the same content as the loaded storm.xml" in stderr


def test_the_same_content_twice_is_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_CORPUS_DIR / "storm.xml", corpus / "storm.xml")
    shutil.copy(SAMPLE_CORPUS_DIR / "storm.xml", corpus / "storm-copy.xml")
    code, _, stderr = cli(tmp_path / "w.duckdb", "ingest", str(corpus))
    assert code == 1
    assert "storm-copy.xml and storm.xml have the same content" in stderr


def test_remove_and_status(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    assert cli(db, "ingest", str(SAMPLE_CORPUS_DIR))[0] == 0
    hashes = loaded(db)
    code, _, stderr = cli(db, "remove", "storm", "nope.xml")
    assert code == 1 and "not in the warehouse: nope.xml" in stderr
    assert loaded(db) == hashes
    code, stdout, _ = cli(db, "remove", "storm", "birthday.xml")
    assert code == 0 and "removed 2 file(s)" in stdout
    assert sorted(loaded(db)) == ["flat-tire.xml", "job-interview.xml", "lost-keys.xml"]
    code, stdout, _ = cli(db, "status")
    assert code == 0
    assert hashes["lost-keys.xml"] in stdout and "storm.xml" not in stdout


def test_a_story_is_one_file_whatever_its_path(tmp_path: Path) -> None:
    """A story's file from the same path replaces it (said when it changed); from another
    path with other content it is refused naming both, unless --replace; the same bytes
    from elsewhere are the same story."""
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    mine.mkdir()
    theirs.mkdir()
    text = (SAMPLE_CORPUS_DIR / "storm.xml").read_text()
    (mine / "storm.xml").write_text(text)
    (theirs / "storm.xml").write_text(text.replace("LAST SUMMER", "LAST WINTER", 1))
    db = tmp_path / "w.duckdb"
    assert cli(db, "ingest", str(mine / "storm.xml"))[0] == 0
    code, _, stderr = cli(db, "ingest", "--add", str(mine / "storm.xml"))
    assert code == 0 and "warning" not in stderr
    (mine / "storm.xml").write_text(text.replace("LAST SUMMER", "LAST SPRING", 1))
    code, _, stderr = cli(db, "ingest", "--add", str(mine / "storm.xml"))
    assert code == 0 and "storm.xml changed since it was loaded" in stderr
    changed = loaded(db)
    code, _, stderr = cli(db, "ingest", str(theirs / "storm.xml"))
    assert code == 1 and f"{theirs / 'storm.xml'} is story 'storm', already loaded from" in stderr
    assert loaded(db) == changed
    code, _, stderr = cli(db, "ingest", "--replace", str(theirs / "storm.xml"))
    assert code == 0 and "was replaced by" in stderr
    (mine / "storm.xml").write_text(text.replace("LAST SUMMER", "LAST WINTER", 1))
    code, _, stderr = cli(db, "ingest", "--add", str(mine / "storm.xml"))
    assert code == 0 and "warning" not in stderr
