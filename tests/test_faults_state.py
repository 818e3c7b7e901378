"""Issue 21, items 3, 5, 7 and 9: stale marts say so, the query policy has no hole, faults end
cleanly, and the README's two commands work on a fresh machine. One case per fault, each run
against a real warehouse (a copy of the built sample) and a real fault (a signal at a
failpoint, a full tmpfs, an address-space limit, another application's database file)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from pipeline.corpus import build_warehouse, ingest_corpus
from read.export import export_dataset
from signaffect.core.dbt_runner import run_dbt
from signaffect.core.errors import SignAffectError
from signaffect.core.settings import PROJECT_DIR, SAMPLE_CORPUS_DIR
from signaffect.core.warehouse import connect
from tests.fault_tools import can_mount, finish, limits, run_cli, stopped_at, tmpfs
from tests.fingerprint import fingerprint

STORM = str(SAMPLE_CORPUS_DIR / "storm.xml")
LABEL = "empath:negative_emotion"
runner = CliRunner()


def cli(db: Path, *args: str) -> tuple[int, str, str]:
    """`cli.py --db DB ARGS` in this process."""
    result = runner.invoke(app, ["--db", str(db), "--quiet", *args])
    return result.exit_code, result.stdout, result.stderr


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def built(sample_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "w.duckdb"
    shutil.copy(sample_db, db)
    return db


# --- 3. Stale is visible ----------------------------------------------------------------


def test_every_read_names_stale_marts_after_an_ingest(built: Path, tmp_path: Path) -> None:
    """After an ingest and before a build, the reads that print warn in one line and the
    commands that write results (export, report, train) refuse; both name `cli.py build`."""
    ingest_corpus(built, [STORM])
    warned = [
        ["top", LABEL, "--k", "2"],
        ["signers", LABEL, "--k", "1"],
        ["timing", "eye brows=lowered", "--resamples", "10"],
        ["query", "select count(*) as n from fct_frames"],
    ]
    for args in warned:  # each in its own process, as a user runs them
        done = run_cli(["--db", str(built), "--quiet", *args])
        code, stderr = done.returncode, done.stderr
        assert code == 0, (args, stderr)
        stale = [line for line in stderr.splitlines() if "stale" in line]
        assert len(stale) == 1 and "cli.py build" in stale[0], (args, stderr)
    refused = [
        ["export", "--out", str(tmp_path / "ex")],
        ["report", "--out", str(tmp_path / "rep")],
        ["train", "--trees", "2", "--artifacts-dir", str(tmp_path / "art")],
    ]
    for args in refused:
        code, _, stderr = cli(built, *args)
        assert code == 1, (args, stderr)
        assert len(error_lines(stderr)) == 1 and "stale" in stderr, (args, stderr)
        assert "cli.py build" in stderr
    assert not (tmp_path / "ex").exists() and not (tmp_path / "rep").exists()
    code, stdout, _ = cli(built, "status")
    assert code == 0 and "marts: stale: the raw data changed" in stdout


def test_a_failed_build_leaves_the_marts_stale_in_status(built: Path) -> None:
    code, stdout, _ = cli(built, "status")
    assert "marts: built" in stdout
    with pytest.raises(Exception, match="frame_convention"):
        build_warehouse(built, dbt_vars={"frame_convention": "no-such"})
    code, stdout, _ = cli(built, "status")
    assert code == 0 and "marts: stale: the build started" in stdout and "failed" in stdout
    done = run_cli(["--db", str(built), "--quiet", "top", LABEL, "--k", "1"])
    assert done.returncode == 0 and "failed; the marts may mix two builds" in done.stderr


def test_a_broken_data_rule_names_the_model_and_the_rule(built: Path) -> None:
    """A model's data rules are one `contract` test; its failure still says which rules of
    which model broke, and in how many rows, not only that one test failed."""
    with connect(built) as con:
        con.execute("update main.dim_signers set signer_name = null")
        con.execute("insert into main.dim_signers select * from main.dim_signers limit 1")
    with pytest.raises(SignAffectError, match=r"first: dim_signers breaks not null: signer_name "
                       r"\(\d+ row\(s\)\); unique: signer_id \(1 row\(s\)\)"):
        run_dbt("test", built, extra_args=["--select", "dim_signers"])


def test_a_repeated_composite_key_is_counted_exactly(built: Path) -> None:
    """The `unique` rule groups keys only among rows whose hash repeats: two repeated keys
    of a four-column key are still found and counted as two (the rows equal, as a
    duplicated insert leaves them)."""
    with connect(built) as con:
        con.execute("insert into main.fct_frame_features select * from main.fct_frame_features "
                    "order by all limit 2")
    with pytest.raises(SignAffectError, match=r"first: fct_frame_features breaks unique: "
                       r"source_file, utterance_id, frame_index, feature \(2 row\(s\)\)"):
        run_dbt("test", built, extra_args=["--select", "fct_frame_features"])


# --- 5. Closed query policy -------------------------------------------------------------

INJECTION = "x\"; copy (select 42 as pwned) to 'PWNED.csv'; --"


def test_parquet_paths_are_never_spliced_into_sql(
    sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folder and file names with quotes, semicolons and glob characters are just names:
    they are queried, and the injection writes nothing."""
    folder = tmp_path / "we[ir]d*dir" / f"a'b{INJECTION}"
    rows = export_dataset(sample_db, folder)
    shutil.copy(folder / "signers.parquet", folder / f"{INJECTION}.parquet")
    monkeypatch.chdir(tmp_path)
    quoted = '"' + INJECTION.replace('"', '""') + '"'
    sql = (f"select (select count(*) from frames) as frames, "
           f"(select count(*) from {quoted}) as signers")
    code, stdout, stderr = cli(tmp_path / "none.duckdb", "query", sql, "--parquet", str(folder),
                               "--format", "json")
    assert code == 0, stderr
    assert json.loads(stdout) == [{"frames": rows["frames"], "signers": rows["signers"]}]
    assert not list(tmp_path.rglob("PWNED*")) and not list(PROJECT_DIR.glob("PWNED*"))


# --- 7. Faults end cleanly --------------------------------------------------------------


def test_a_full_disk_leaves_no_partial_report(built: Path, tmp_path: Path) -> None:
    """The report does not fit: one line naming the cause, exit 1, no file of it left."""
    out = tmp_path / "small"
    if can_mount():
        with tmpfs(out, "160k"):
            result = run_cli(["--db", str(built), "--quiet", "report", "--out", str(out / "r")])
            left = sorted(p.name for p in out.rglob("*"))
    else:  # RLIMIT_FSIZE: a file past 100 kB cannot be written, as on a full disk
        result = run_cli(["--db", str(built), "--quiet", "report", "--out", str(out / "r")],
                         preexec_fn=limits(fsize=100_000))
        left = sorted(p.name for p in out.rglob("*")) if out.exists() else []
    assert result.returncode == 1, result.stderr
    assert len(error_lines(result.stderr)) == 1 and "out of disk space" in result.stderr
    assert "Traceback" not in result.stderr
    assert left == [], left


def test_the_atomic_write_helpers_leave_nothing_when_a_write_fails(tmp_path: Path) -> None:
    """What export, report, training and the ELAN exporter write through: a write that
    fails (here a full disk) leaves the old file as it was and no temporary name behind."""
    from signaffect.core.atomic import atomic_files, atomic_path

    full = OSError(errno.ENOSPC, "No space left on device")
    target = tmp_path / "story.eaf"
    target.write_text("old")
    with pytest.raises(OSError), atomic_path(target) as temp:
        temp.write_text("half")
        raise full
    with pytest.raises(OSError), atomic_files(tmp_path / "report") as files:
        files.write_text("report.html", "whole")
        raise full
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["story.eaf"]


def test_ctrl_c_in_a_build_exits_130_keeps_the_raw_data_and_leaves_the_marts_stale(
    built: Path,
) -> None:
    before = fingerprint(built, ("raw",))
    with stopped_at(["--db", str(built), "--quiet", "build", "--force"], "dbt.node") as proc:
        proc.send_signal(signal.SIGINT)
        result = finish(proc)
    assert result.returncode == 130, result.stderr
    assert "interrupted: the ingested data is kept" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert len(error_lines(result.stderr)) == 1, result.stderr
    assert fingerprint(built, ("raw",)) == before, "the raw data changed"
    assert not [p for p in built.parent.iterdir() if p.name.startswith(".ex.")], "staging left"
    _, stdout, _ = cli(built, "status")
    assert "marts: stale: the build started" in stdout and "was interrupted" in stdout


def test_ctrl_c_just_after_an_ingest_commits_says_it_was_committed(built: Path) -> None:
    with stopped_at(["--db", str(built), "--quiet", "ingest", STORM], "ingest.committed") as proc:
        proc.send_signal(signal.SIGINT)
        result = finish(proc)
    assert result.returncode == 130, result.stderr
    assert "interrupted after the commit" in result.stderr, result.stderr
    assert "nothing changed" not in result.stderr
    con = duckdb.connect(str(built), read_only=True)
    assert con.execute("select source_file from raw.signstream_files").fetchall() == [
        ("storm.xml",)
    ]
    con.close()


def _damage(db: Path) -> None:
    """Overwrite 64 kB in the middle of a table's data (not the catalog, which DuckDB would
    refuse at once), trying other offsets until reading every row fails."""
    size = db.stat().st_size
    original = db.read_bytes()
    for fraction in (0.5, 0.4, 0.6, 0.3, 0.7):
        with open(db, "r+b") as handle:
            handle.seek(int(size * fraction))
            handle.write(os.urandom(65536))
        try:
            con = duckdb.connect(str(db), read_only=True)
            tables = con.execute("select table_schema, table_name from information_schema.tables"
                                 " where table_type = 'BASE TABLE'").fetchall()
            for schema, name in tables:
                con.execute(f'select sum(hash(t)) from "{schema}"."{name}" as t').fetchall()
            con.close()
        except duckdb.Error:
            return
        db.write_bytes(original)
    raise AssertionError("no offset damaged a table")


def test_damaged_foreign_and_sqlite_files_are_refused_before_any_write(
    sample_db: Path, tmp_path: Path
) -> None:
    damaged = tmp_path / "damaged.duckdb"
    shutil.copy(sample_db, damaged)
    _damage(damaged)
    foreign = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("create table customers (id integer, name varchar)")
    con.close()
    lite = tmp_path / "notes.sqlite"
    sqlite3.connect(lite).execute("create table notes (body text)").connection.commit()
    for db, message in ((damaged, "looks corrupt"), (foreign, "another application's"),
                        (lite, "SQLite")):
        before = sha(db)
        for args in (["ingest", STORM], ["build"]):
            code, _, stderr = cli(db, *args)
            assert code == 1, (db, args, stderr)
            assert len(error_lines(stderr)) == 1 and message in stderr, (db, args, stderr)
            assert sha(db) == before, f"{db.name} changed"
        assert not db.with_name(db.name + ".wal").exists()


@pytest.mark.parametrize("name", ["main", "raw", "System"])
def test_a_warehouse_named_like_a_schema_is_refused_before_any_write(
    tmp_path: Path, name: str
) -> None:
    db = tmp_path / f"{name}.duckdb"
    code, _, stderr = cli(db, "ingest", STORM)
    assert code == 1, stderr
    assert len(error_lines(stderr)) == 1 and "cannot be named" in stderr, stderr
    assert "another file name" in stderr
    assert not db.exists()


def test_extensions_are_never_installed_or_loaded_behind_the_users_back(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    settings = con.execute(
        "select current_setting('autoinstall_known_extensions'), "
        "current_setting('autoload_known_extensions')"
    ).fetchone()
    con.close()
    assert settings == (False, False)
    profile = (PROJECT_DIR / "profiles.yml").read_text()
    assert "autoinstall_known_extensions: false" in profile
    assert "autoload_known_extensions: false" in profile


HEAVY = ("cv2", "matplotlib")
IMPORTS_OF = """
import json, sys
from cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))
"""


def test_opencv_and_matplotlib_load_only_in_the_commands_that_need_them(
    built: Path, tmp_path: Path
) -> None:
    commands = [
        ["ingest", STORM, "--add"],
        ["status"],
        ["query", "select 1"],
        ["top", LABEL, "--k", "1"],
        ["export", "--out", str(tmp_path / "ex")],
        ["remove", "storm"],
    ]
    for args in commands:
        done = subprocess.run(
            [sys.executable, "-c", IMPORTS_OF.format(heavy=set(HEAVY)), "--db", str(built),
             "--quiet", *args],
            capture_output=True, text=True, cwd=PROJECT_DIR, timeout=300,
        )
        assert done.returncode == 0, (args, done.stderr)
        assert json.loads(done.stdout.strip().splitlines()[-1]) == [], args


#: What glibc prints, and exits 127 with, when a thread's memory cannot be mapped: no Python
#: handler runs, but it is still one line naming the cause.
GLIBC_THREAD_ABORT = "cannot allocate memory for thread-local data: ABORT"


def test_out_of_memory_is_one_line(built: Path) -> None:
    """Under address-space limits from starved to enough: never a traceback; when memory
    runs out, one line naming it."""
    outcomes = []
    for megabytes in (600, 800, 1000, 1200):
        result = run_cli(["--db", str(built), "--quiet", "top", LABEL, "--k", "1"],
                         preexec_fn=limits(address_space=megabytes * 2**20))
        if result.returncode == 127:  # glibc aborts a new thread below Python: one line too
            assert result.stderr.splitlines() == [GLIBC_THREAD_ABORT], result.stderr
            continue
        assert result.returncode in (0, 1), (megabytes, result.stderr)
        assert "Traceback" not in result.stderr, (megabytes, result.stderr[-2000:])
        if result.returncode == 1:
            assert error_lines(result.stderr) == [
                line for line in result.stderr.splitlines() if "out of memory" in line
            ], result.stderr
            assert len(error_lines(result.stderr)) == 1
        outcomes.append(result.returncode)
    assert 1 in outcomes, "no limit was low enough to run out of memory"


@pytest.mark.parametrize("address_space", [None, 16 * 2**30])
def test_a_bare_system_error_is_out_of_memory_only_under_a_memory_limit(
    address_space: int | None,
) -> None:
    """A compiled library whose allocation fails under an address-space limit may return an
    error without setting one (Python's bare SystemError): under a limit that is memory, with
    no limit it stays the SystemError it is."""
    code = ("from signaffect.core.failures import describe\n"
            "print(describe(SystemError('error return without exception set'), 'top', 'w')"
            ".lines[0])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PROJECT_DIR, preexec_fn=limits(address_space=address_space),
                            check=True)
    expected = ("out of memory in `cli.py top`" if address_space else
                "SystemError in `cli.py top`: error return without exception set")
    assert result.stdout.strip() == expected


# --- 9. The README's commands on a fresh machine ----------------------------------------


@pytest.mark.parametrize("convention", ["study", "nearest"])
def test_dbt_unit_tests_pass_under_every_frame_convention(sample_db: Path, convention: str) -> None:
    """`dbt build --vars '{frame_convention: ...}'` runs the unit tests too: each pins the
    convention it checks, so they pass whichever the build uses."""
    ran = run_dbt("test", sample_db, {"frame_convention": convention},
                  ["--select", "test_type:unit"])
    assert ran >= 7


def _fake_bin(folder: Path, uid: int) -> Path:
    """A PATH with no Chromium, an `id` that reports `uid`, and an `apt-get` that logs."""
    folder.mkdir()
    log = folder / "apt.log"
    (folder / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (folder / "apt-get").write_text(f'#!/bin/sh\necho "apt-get $*" >> {log}\n')
    for tool in ("id", "apt-get"):
        (folder / tool).chmod(0o755)
    return log


@pytest.mark.parametrize("uid", [0, 1000])
def test_setup_installs_chromium_and_r_as_root_or_prints_the_commands(
    tmp_path: Path, uid: int
) -> None:
    log = _fake_bin(tmp_path / "bin", uid)
    bash = shutil.which("bash")
    assert bash
    done = subprocess.run(
        [bash, str(PROJECT_DIR / "scripts" / "ensure_system_packages.sh")],
        capture_output=True, text=True, env={"PATH": str(tmp_path / "bin")}, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    if uid == 0:
        assert log.read_text().splitlines() == [
            "apt-get update -qq",
            "apt-get install -y -qq chromium",
            "apt-get update -qq",
            "apt-get install -y -qq r-cran-lme4",
        ]
    else:
        assert not log.exists()
        assert done.stderr.strip().splitlines() == [
            "note: headless Chromium (for the report's browser test) is missing; install it "
            "with: sudo apt-get update && sudo apt-get install -y chromium",
            "note: R with lme4 (for cli.py confirm and its tests) is missing; install it "
            "with: sudo apt-get update && sudo apt-get install -y r-cran-lme4",
        ]


def test_the_browser_test_says_chromium_is_missing_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_report.py::test_console_messages_are_caught"],
        capture_output=True, text=True, cwd=PROJECT_DIR, timeout=300,
        env={**os.environ, "PATH": str(Path(sys.executable).parent)},
    )
    assert done.returncode == 1
    said = [line for line in done.stdout.splitlines() if "Chromium is needed" in line]
    assert said and "apt-get install -y chromium" in said[0], done.stdout
    assert "def chromium" not in done.stdout and "Traceback" not in done.stdout, done.stdout
