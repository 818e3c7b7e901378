"""Any exception a command raises, as one line a user can act on, a hint and an exit code.

The CLI routes every command through `describe`, so a command written tomorrow gets the
same treatment: no traceback, no rich markup read from paths or data, exit 130 when
interrupted, and the cause (a lock, a full disk, a corrupt file) named instead of whatever
error it surfaced as. DuckDB, dbt and the OS report these causes as text, so the text is
what is matched, in one table.
"""

from __future__ import annotations

import errno
import re
import resource
import sys
from dataclasses import dataclass

from signaffect.core.errors import NOT_BUILT_HINT, Interrupted, SignAffectError
from signaffect.core.last_resort import MEMORY_HINT

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

#: Commands whose work is several commits (ingest, then one dbt model at a time): an
#: interruption keeps what was committed, so the message cannot say "nothing changed".
STEPWISE_COMMANDS = frozenset({"build", "run", "fer"})

#: (pattern in the error text, message, hint); `{db}` is the warehouse path.
CAUSES: list[tuple[str, str, str]] = [
    (
        r"Could not set lock|Conflicting lock",
        "the warehouse {db} is in use by another process{pid}",
        "wait for it to finish (or close it) and run the command again",
    ),
    (
        r"No space left on device|ENOSPC|File too large|EFBIG",
        "out of disk space while writing{where}",
        "free some space (or pass --db / --out on a larger disk) and run the command again",
    ),
    (
        r"Read-only file system|EROFS",
        "cannot write{where}: the file system is read-only",
        "pass --db (or --out) in a writable place",
    ),
    (
        r"Permission denied|EACCES|EPERM",
        "cannot use{where}: permission denied",
        "pass --db (or --out) in a place you may write, or fix its permissions",
    ),
    (
        r"not a valid DuckDB database file|Could not read enough bytes|[Cc]orrupt"
        r"|Serialization Error",
        "{db} looks corrupt or is not a SignAffect warehouse",
        "restore it from a copy, or pass --db with a new file and run `cli.py run PATH`",
    ),
    (
        r"Not a directory|ENOTDIR|File exists|EEXIST",
        "cannot use{where}: a part of the path is a file, not a folder",
        "pass --db (or --out) with a path under a folder",
    ),
    (
        # The last: a library that cannot map its code under a memory limit fails to import.
        r"[Oo]ut of [Mm]emory|failed to allocate|Cannot allocate memory"
        r"|failed to map segment from shared object",
        "out of memory in `cli.py {command}`",
        MEMORY_HINT,
    ),
]


@dataclass(frozen=True)
class Failure:
    """What the CLI prints (each line on its own, then the hint) and its exit code."""

    lines: list[str]
    hint: str | None
    code: int


def describe(exc: BaseException, command: str, db: str) -> Failure:
    """The one-line report of `exc`, raised by `cli.py command` on warehouse `db`."""
    if isinstance(exc, Interrupted):
        return Failure([exc.message], exc.hint, EXIT_INTERRUPTED)
    if isinstance(exc, KeyboardInterrupt):
        if command in STEPWISE_COMMANDS:
            return Failure(
                ["interrupted: the ingested data is kept, the marts are marked stale"],
                "run `cli.py build` to finish them",
                EXIT_INTERRUPTED,
            )
        return Failure(["interrupted, nothing changed"], None, EXIT_INTERRUPTED)
    if isinstance(exc, SignAffectError):
        lines = [str(line) for line in getattr(exc, "errors", [])]
        return Failure([*lines, exc.message], exc.hint, EXIT_FAILED)
    if isinstance(exc, MemoryError) or (isinstance(exc, SystemError) and _memory_capped()):
        return Failure([f"out of memory in `cli.py {command}`"], MEMORY_HINT, EXIT_FAILED)
    text = _text_of(exc)
    matched = from_text(text, command, db)
    if matched is not None:
        return matched
    # Never imported here (every command loads this module, and a failure may be out of
    # memory): an error of DuckDB's means DuckDB is loaded.
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(exc, duckdb.CatalogException):
        return Failure([f"{db}: {_first_line(text)}"], NOT_BUILT_HINT, EXIT_FAILED)
    if isinstance(exc, OSError):
        return Failure([_first_line(text)], "check the path and run the command again",
                       EXIT_FAILED)
    kind = ("DuckDB error" if duckdb is not None and isinstance(exc, duckdb.Error)
            else type(exc).__name__)
    return Failure(
        [f"{kind} in `cli.py {command}`: {_first_line(text)}"],
        "run again with --debug for the traceback",
        EXIT_FAILED,
    )


def _memory_capped() -> bool:
    """Whether this process runs under an address-space limit: there, a compiled library
    whose allocation fails may return an error without setting one, which Python reports
    as a bare SystemError ("error return without exception set") instead of MemoryError."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return soft != resource.RLIM_INFINITY


def from_text(text: str, command: str, db: str) -> Failure | None:
    """The known cause named in an error text (DuckDB's, dbt's or the OS's), if any."""
    for pattern, message, hint in CAUSES:
        if re.search(pattern, text):
            pid = re.search(r"\(PID (\d+)\)", text)
            where = _quoted_path(text)
            line = message.format(
                db=db, command=command, where=where, pid=f" (PID {pid.group(1)})" if pid else ""
            )
            return Failure([line], hint, EXIT_FAILED)
    return None


def _quoted_path(text: str) -> str:
    """` <path>` for the first quoted path in an error text, else ``: a quoted string that
    starts like a path (DuckDB's errors may be JSON, whose keys are quoted too)."""
    path = re.search(r"[\"']((?:/|~/|\.{1,2}/|[A-Za-z]:\\)[^\"'\\]*)", text)
    return f" {path.group(1)}" if path else ""


def _text_of(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        code = errno.errorcode.get(exc.errno or 0, "")
        name = f" '{exc.filename}'" if exc.filename else ""
        return f"{exc.strerror} ({code}){name}"
    return str(exc) or type(exc).__name__


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text
