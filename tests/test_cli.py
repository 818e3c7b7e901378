"""The command line as a user drives it: exit codes, one-line errors, output formats."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from cli import app
from signaffect.core.output import unique_names

runner = CliRunner()


def test_query_formats(sample_db: Path) -> None:
    sql = "select count(*) as n from fct_frames"
    as_csv = runner.invoke(app, ["--db", str(sample_db), "query", sql, "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    n = int(as_csv.stdout.splitlines()[1])
    assert n > 1000
    as_json = runner.invoke(app, ["--db", str(sample_db), "query", sql, "--format", "json"])
    assert json.loads(as_json.stdout) == [{"n": n}]
    as_table = runner.invoke(app, ["--db", str(sample_db), "query", sql])
    assert str(n) in as_table.stdout


def test_status_lists_public_tables(sample_db: Path) -> None:
    result = runner.invoke(app, ["--db", str(sample_db), "status"])
    assert result.exit_code == 0
    for table in ["fct_frames", "fct_frame_features", "dim_features", "signstream_annotations"]:
        assert table in result.stdout


def test_bad_sql_is_one_line_and_exit_1(sample_db: Path) -> None:
    result = runner.invoke(app, ["--db", str(sample_db), "query", "select nope"])
    assert result.exit_code == 1
    assert "error: query failed" in result.stderr
    assert "Traceback" not in result.output


def test_bad_file_exits_1_naming_file_and_element(tmp_path: Path) -> None:
    bad = tmp_path / "truncated.xml"
    bad.write_text("<SIGNSTREAM-DATABASE><UTTERANCES><UTTERANCE ID='1'", encoding="utf-8")
    result = runner.invoke(app, ["--db", str(tmp_path / "w.duckdb"), "ingest", str(bad)])
    assert result.exit_code == 1
    assert "truncated.xml: line 1" in result.stderr
    assert "nothing was loaded" in result.stderr
    assert "Traceback" not in result.output


def test_bad_liwc_dictionary_names_file_and_line(tmp_path: Path) -> None:
    dic = tmp_path / "broken.dic"
    dic.write_text("%\n1\tposemo\n%\nhappy\t7\n", encoding="utf-8")
    sample = next(Path("sample_corpus").glob("*.xml"))
    result = runner.invoke(
        app, ["--db", str(tmp_path / "w.duckdb"), "ingest", str(sample), "--liwc-dic", str(dic)]
    )
    assert result.exit_code == 1
    assert "broken.dic: line 4" in result.stderr


def test_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", str(tmp_path / "none.duckdb"), "status"])
    assert result.exit_code == 1
    assert "no warehouse at" in result.stderr


def test_usage_error_exits_2() -> None:
    assert runner.invoke(app, ["query"]).exit_code == 2


def test_lexicon_and_category_choice(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    sample = str(next(Path("sample_corpus").glob("*.xml")))
    result = runner.invoke(
        app,
        [
            "--db",
            str(db),
            "ingest",
            sample,
            "--lexicon",
            "empath",
            "--category",
            "empath:negative_emotion",
            "--category",
            "empath:confusion",
        ],
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    labels = {r[0] for r in con.execute("select distinct label from raw.lexicon_hits").fetchall()}
    con.close()
    assert labels and labels <= {"empath:negative_emotion", "empath:confusion"}

    bad = runner.invoke(app, ["--db", str(db), "ingest", sample, "--category", "empath:nope"])
    assert bad.exit_code == 1
    assert "nope" in bad.stderr and "Traceback" not in bad.output
    no_dic = runner.invoke(app, ["--db", str(db), "ingest", sample, "--lexicon", "liwc"])
    assert no_dic.exit_code == 1
    assert "--liwc-dic" in no_dic.stderr


def test_repeated_column_names_get_the_first_free_suffix() -> None:
    assert unique_names(["a", "a", "a_2", "b", "a"]) == ["a", "a_3", "a_2", "b", "a_4"]
    assert unique_names(["x", "y"]) == ["x", "y"]


def test_an_empty_or_folder_db_is_a_usage_error(tmp_path: Path) -> None:
    """`--db ""` once read the current folder (typer's Path("")) and failed inside DuckDB."""
    for value in ("", str(tmp_path)):
        result = runner.invoke(app, ["--db", value, "status"])
        assert result.exit_code == 2, result.output
        assert "not a warehouse file" in result.output
    assert list(tmp_path.iterdir()) == []
