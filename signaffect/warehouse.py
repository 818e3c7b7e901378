"""Open the one DuckDB warehouse file, with errors a user can act on."""

from __future__ import annotations

from pathlib import Path

import duckdb

from signaffect.errors import SignAffectError
from signaffect.settings import duckdb_config


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with the memory limit and temp directory of the settings; a
    read-only open of a missing file is an error, not a new file."""
    if read_only and not path.exists():
        raise SignAffectError(
            f"no warehouse at {path}",
            "run `cli.py run` (or `cli.py ingest PATH` then `cli.py build`) first, or pass --db",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only, config=duckdb_config(path))
    except duckdb.IOException as exc:
        raise SignAffectError(
            f"cannot open warehouse {path}: {str(exc).splitlines()[0]}",
            "another process may hold it open for writing; close it and retry",
        ) from None
