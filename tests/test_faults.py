"""Hostile and unlucky use, as a table of cases: each runs one command against a real fault
and checks its exit code, its one-line message, and the warehouse before and after.

A case names the warehouse it starts from (`built`: a copy of the sample warehouse;
`ingested`: the sample's storm.xml ingested, never built; or a damaged or misplaced file),
the fault (another process holding the lock; SIGINT / SIGKILL at a failpoint; a full or
read-only file system, from a small tmpfs where this process may mount one, else
RLIMIT_FSIZE or chmod; RLIMIT_AS), the command, and what must follow. `same` says what must
be unchanged: the whole warehouse (`all`), its raw data (`raw`), or nothing to compare.
Ctrl-C in a build is tests/test_faults_state.py's (one interrupted build serves both files'
checks).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from pipeline.corpus import ingest_corpus
from signaffect.core.settings import SAMPLE_CORPUS_DIR
from tests.fault_tools import (
    can_mount,
    finish,
    limits,
    lock_held,
    remount_read_only,
    run_cli,
    stopped_at,
    tmpfs,
)
from tests.fingerprint import fingerprint

STORM = str(SAMPLE_CORPUS_DIR / "storm.xml")
BIG_LIST = "select len(list(range)) from range(300000000)"


@dataclass(frozen=True)
class Case:
    name: str
    warehouse: str  # built | ingested | truncated | text | foreign | under-file | absent
    fault: str  # none | lock | sigint@<failpoint> | sigkill@<failpoint> | disk-full |
    #             read-only | read-only-out | memory | symlink-loop | out-file
    command: list[str]
    code: int
    message: str  # must appear in stderr (stdout when the command succeeds)
    same: str = "all"  # all | raw | none


CASES = [
    Case("build while locked", "built", "lock", ["build"], 1, "in use by another process"),
    Case("ingest while locked", "built", "lock", ["ingest", STORM], 1, "in use by another"),
    Case("status while locked", "built", "lock", ["status"], 1, "in use by another process"),
    Case("train while locked", "built", "lock", ["train", "--trees", "2"], 1, "in use by"),
    Case("Ctrl-C in ingest's write", "built", "sigint@ingest.commit", ["ingest", STORM], 130,
         "interrupted, nothing changed"),
    Case("kill -9 in ingest's write", "built", "sigkill@ingest.commit", ["ingest", STORM],
         -signal.SIGKILL, ""),
    Case("Ctrl-C in export", "built", "sigint@export.table", ["export", "--out", "{tmp}/ex"],
         130, "interrupted, nothing changed"),
    Case("disk full in ingest", "built", "disk-full", ["ingest", "{ncslgr}"], 1,
         "out of disk space"),
    Case("disk full in build", "built", "disk-full", ["build", "--force"], 1,
         "out of disk space",
         same="raw"),
    Case("read-only warehouse, ingest", "built", "read-only", ["ingest", STORM], 1, "read-only"),
    Case("read-only warehouse, build", "built", "read-only", ["build"], 1, "read-only"),
    Case("truncated warehouse", "truncated", "none", ["status"], 1, "looks corrupt"),
    Case("not a DuckDB file", "text", "none", ["ingest", STORM], 1, "looks corrupt"),
    Case("foreign raw tables", "foreign", "none", ["ingest", STORM], 1, "has no column(s)"),
    Case("--db under a file", "under-file", "none", ["ingest", STORM], 1,
         "is a file, not a folder", same="none"),
    Case("low memory", "built", "memory", ["query", BIG_LIST], 1, "out of memory"),
    Case("symlink loop in a corpus", "built", "symlink-loop", ["ingest", "{tmp}/corpus"], 1,
         "symbolic link loop"),
    Case("top --k absurd", "built", "none", ["top", "nrc:anger", "--k", "10" + "0" * 30], 2,
         "--k"),
    Case("report before build", "ingested", "none", ["report", "--out", "{tmp}/r"], 1,
         "cli.py build"),
    Case("export before build", "ingested", "none", ["export", "--out", "{tmp}/e"], 1,
         "cli.py build"),
    Case("train before build", "ingested", "none", ["train"], 1, "is not built"),
    Case("report --out a file", "built", "out-file", ["report", "--out", "{tmp}/file"], 1,
         "is a file, not a folder"),
    Case("export --out read-only", "built", "read-only-out", ["export", "--out", "{ro}/e"], 1,
         "read-only"),
    Case("run --out read-only", "built", "read-only-out", ["run", "--out", "{ro}/r"], 1,
         "read-only"),
    Case("markup in --db path", "absent", "none", ["ingest", STORM], 0, "[/x]", same="none"),
    Case("markup in a missing --db", "absent", "none", ["status"], 1, "[/x]", same="none"),
    Case("markup in data", "built", "none", ["query", "select '[/x] [bold]b' as s"], 0,
         "[/x] [bold]b"),
    Case("markup in a label", "built", "none", ["top", "[/x]"], 1, "unknown label '[/x]'"),
    Case("markup in SQL text", "built", "none", ["query", "select [/x] from nope"], 1,
         "query failed"),
    Case("NaN as JSON", "built", "none",
         ["query", "select 'nan'::double as x, 'inf'::double as y", "--format", "json"], 0,
         '"x": null'),
    Case("wide column in a pipe", "built", "none", ["query", "select repeat('x', 300) as s"], 0,
         "x" * 300),
    Case("huge table", "built", "none", ["query", "select * from range(5000)"], 0,
         "showing 1,000 of 5,000 rows"),
    Case("two statements", "built", "none", ["query", "select 1; select 2"], 1,
         "one statement, not 2"),
    Case("query before build", "ingested", "none",
         ["query", "select count(*) as n from signstream_files"], 0, "1"),
    Case("COPY TO", "built", "none", ["query", "copy (select 1) to '{tmp}/x.csv'"], 1,
         "COPY statements are refused"),
    Case("ATTACH read-write", "built", "none",
         ["query", "attach '{tmp}/y.duckdb' as y (read_write)"], 1, "ATTACH statements"),
    Case("EXPORT DATABASE", "built", "none", ["query", "export database '{tmp}/dump'"], 1,
         "EXPORT statements"),
    Case("INSTALL", "built", "none", ["query", "install httpfs"], 1, "LOAD statements"),
    Case("profiling output file", "built", "none",
         ["query", "pragma profiling_output='{tmp}/p.json'"], 1, "SET statements"),
]


@pytest.fixture(scope="module")
def ingested_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ingested") / "w.duckdb"
    ingest_corpus(db, [STORM])
    return db


def state(db: Path, same: str) -> object:
    """What must not change: the tables' fingerprint, or the bytes of a file DuckDB cannot
    open, or the absence of a file."""
    if same == "none":
        return None
    if not db.exists():
        return "absent"
    try:
        return fingerprint(db, ("raw",) if same == "raw" else ("main", "raw"))
    except duckdb.Error:
        return hashlib.sha256(db.read_bytes()).hexdigest()


def make_warehouse(kind: str, folder: Path, sample_db: Path, ingested_db: Path) -> Path:
    db = folder / "w.duckdb"
    if kind == "built":
        shutil.copy(sample_db, db)
    elif kind == "ingested":
        shutil.copy(ingested_db, db)
    elif kind == "truncated":
        shutil.copy(sample_db, db)
        os.truncate(db, db.stat().st_size // 3)
    elif kind == "text":
        db.write_text("not a database\n" * 100)
    elif kind == "foreign":
        con = duckdb.connect(str(db))
        con.execute("create schema raw; create table raw.signstream_files (name varchar)")
        con.close()
    elif kind == "under-file":
        (folder / "file.txt").write_text("x")
        db = folder / "file.txt" / "w.duckdb"
    elif kind == "absent":
        db = folder / "a[/x]" / "w.duckdb"
    return db


@contextmanager
def small_disk(folder: Path, db: Path) -> Iterator[tuple[Path, dict[str, object]]]:
    """The warehouse on a file system with ~200 kB free: a tmpfs where we may mount one,
    else a file-size limit (RLIMIT_FSIZE) just above the warehouse's size."""
    if can_mount():
        with tmpfs(folder / "small", f"{db.stat().st_size // 1024 + 200}k") as mount:
            shutil.copy(db, mount / db.name)
            yield mount / db.name, {}
    else:
        yield db, {"preexec_fn": limits(fsize=db.stat().st_size + 200_000)}


@contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """A folder no file can be created in: a read-only tmpfs, or chmod 555 if not root."""
    if can_mount():
        with tmpfs(folder, "64m") as mount:
            yield mount
    elif os.geteuid() != 0:
        folder.mkdir()
        yield folder
    else:
        raise AssertionError(
            "root without the mount command cannot make a read-only folder: install util-linux"
        )


def run(case: Case, db: Path, tmp: Path, corpus_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run the case's command against `db` under its fault."""
    args = ["--db", str(db), "--quiet"] + [
        a.format(tmp=tmp, ro=tmp / "ro", ncslgr=corpus_dir) for a in case.command
    ]
    fault, _, point = case.fault.partition("@")
    if fault in ("sigint", "sigkill"):
        with stopped_at(args, point) as proc:
            proc.send_signal(signal.SIGINT if fault == "sigint" else signal.SIGKILL)
            return finish(proc)
    if fault == "memory":
        return run_cli(args, preexec_fn=limits(address_space=1500 * 2**20))
    with ExitStack() as stack:
        if fault == "lock":
            stack.enter_context(lock_held(db))
        if fault == "symlink-loop":
            (tmp / "corpus").mkdir()
            shutil.copy(STORM, tmp / "corpus" / "storm.xml")
            (tmp / "corpus" / "loop.xml").symlink_to("loop.xml")
        if fault == "out-file":
            (tmp / "file").write_text("x")
        result = CliRunner().invoke(app, args)
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)
    raise AssertionError("unreachable")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault(
    case: Case, tmp_path: Path, sample_db: Path, ingested_db: Path, corpus_dir: Path
) -> None:
    db = make_warehouse(case.warehouse, tmp_path, sample_db, ingested_db)
    with ExitStack() as stack:
        extra: dict[str, object] = {}
        if case.fault == "disk-full":
            db, extra = stack.enter_context(small_disk(tmp_path, db))
        if case.fault == "read-only":
            mount = stack.enter_context(read_only_folder(tmp_path / "ro"))
            shutil.copy(db, mount / db.name)
            db = mount / db.name
            if can_mount():
                remount_read_only(mount)
            else:
                mount.chmod(0o555)
        if case.fault == "read-only-out":
            mount = stack.enter_context(read_only_folder(tmp_path / "ro"))
            if can_mount():
                remount_read_only(mount)
            else:
                mount.chmod(0o555)
        before = state(db, case.same)
        if extra:
            args = ["--db", str(db), "--quiet"] + [
                a.format(tmp=tmp_path, ncslgr=corpus_dir) for a in case.command
            ]
            result = run_cli(args, **extra)  # type: ignore[arg-type]
        else:
            result = run(case, db, tmp_path, corpus_dir)
        after = state(db, case.same)
    assert result.returncode == case.code, (result.stdout, result.stderr)
    shown = result.stdout + result.stderr if case.code == 0 else result.stderr
    assert case.message in shown, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    if case.code not in (0, 2, -signal.SIGKILL):
        lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
        assert len(lines) == 1, result.stderr
    assert after == before, f"{case.name}: the warehouse changed"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ex.")], "staging left"
    if case.command[0] == "query" and case.code == 1:
        assert {p.name for p in tmp_path.iterdir()} <= {"w.duckdb", "w.duckdb.wal"}
    if case.name == "NaN as JSON":
        assert json.loads(result.stdout) == [{"x": None, "y": None}]


def test_a_killed_export_leaves_nothing_after_the_next(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "ex"
    args = ["--db", str(sample_db), "--quiet", "export", "--out", str(out)]
    with stopped_at(args, "export.table") as proc:
        proc.kill()
        finish(proc)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ex.")], "no leftover?"
    again = run_cli(args)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex"]
