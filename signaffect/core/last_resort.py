"""One line, even when there is no memory to say more: the CLI's report of an error raised
while it is still importing its modules, or while it reports another error.

Why: under a memory limit the first allocation to fail may be an import (pyarrow, DuckDB)
before any command runs, or rich drawing the error line itself; either would end in a
traceback. This module imports only the standard library, so it is in place first, and it
writes plain bytes to stderr.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType

MEMORY_HINT = (
    "free memory or use a larger machine, or cap DuckDB with SIGNAFFECT_MEMORY_LIMIT "
    "(e.g. 2GB) so it spills to disk"
)


def write_plain(lines: list[str], hint: str | None = None) -> None:
    """`error: <line>` per line and `hint: <hint>` on stderr, as bytes, without rich."""
    text = "".join(f"error: {line}\n" for line in lines) + (f"hint: {hint}\n" if hint else "")
    os.write(2, text.encode("utf-8", "replace"))


def _hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, MemoryError):
        write_plain(["out of memory while `cli.py` was starting"], MEMORY_HINT)
        os._exit(1)
    if issubclass(kind, KeyboardInterrupt):
        write_plain(["interrupted, nothing changed"])
        os._exit(130)
    sys.__excepthook__(kind, exc, tb)


def install_last_resort() -> None:
    """Report MemoryError and Ctrl-C raised outside a command as one line (not with --debug)."""
    if "--debug" not in sys.argv:
        sys.excepthook = _hook
