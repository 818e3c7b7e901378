"""The steps `cli.py` chains: ingest into raw, then dbt build, each with its own connection."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.progress import Progress

from ingest.corpus import IngestSummary, ingest_signstream
from signaffect.dbt_runner import run_dbt
from signaffect.warehouse import connect


def ingest_corpus(
    db: Path, paths: Iterable[str | Path], progress: Progress | None = None
) -> IngestSummary:
    """Ingest SignStream files into `db`, closing the connection so dbt can open the file."""
    con = connect(db)
    try:
        return ingest_signstream(con, paths, progress)
    finally:
        con.close()


def build_warehouse(db: Path, progress: Progress | None = None) -> None:
    """`dbt build` every model, seed and test against `db`."""
    run_dbt("build", db, progress=progress)
