"""The steps `cli.py` chains: ingest into raw, then dbt build, each with its own connection."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.progress import Progress

from ingest.corpus import IngestSummary, ingest_signstream
from ingest.fer_video import ensure_fer_tables
from ingest.lexicons import LexiconFileError, select_lexicons
from signaffect.dbt_runner import run_dbt
from signaffect.errors import InputFileError, SignAffectError
from signaffect.warehouse import connect


def ingest_corpus(
    db: Path,
    paths: Iterable[str | Path],
    progress: Progress | None = None,
    *,
    lexicons: bool = True,
    liwc_dic: Path | None = None,
    lexicon_names: Sequence[str] | None = None,
    categories: Sequence[str] = (),
) -> IngestSummary:
    """Ingest SignStream files (and, unless `lexicons` is off, their lexicon hits) into `db`,
    closing the connection so dbt can open the file. `lexicon_names` and `categories`
    (`lexicon:category`) narrow the lexicons; see `ingest.lexicons.select_lexicons`."""
    try:
        chosen = select_lexicons(lexicon_names, categories, liwc_dic) if lexicons else []
    except ValueError as exc:
        if not isinstance(exc, LexiconFileError):
            raise SignAffectError(str(exc), "see `cli.py ingest --help`") from None
        raise InputFileError(
            str(exc.path),
            f"line {exc.line}" if exc.line else "file",
            exc.problem,
            "pass a LIWC .dic file: a %-delimited category block, then word<TAB>ids lines",
        ) from None
    con = connect(db)
    try:
        ensure_fer_tables(con)  # so dbt's FER models build (empty) before any video is analysed
        return ingest_signstream(con, paths, chosen, progress)
    finally:
        con.close()


def build_warehouse(
    db: Path, progress: Progress | None = None, dbt_vars: dict[str, object] | None = None
) -> None:
    """`dbt build` every model, seed and test against `db` (`dbt_vars` override vars)."""
    run_dbt("build", db, dbt_vars=dbt_vars, progress=progress)
