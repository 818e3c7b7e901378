"""The steps `cli.py` chains: ingest into raw, then dbt build, each with its own connection."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.progress import Progress

from ingest import tier_mapping
from ingest.corpus import IngestSummary, backfill_lookups, ingest_signstream, remove_files
from ingest.dai2 import DEFAULT_FPS
from ingest.file_identity import loaded_files, match_loaded
from ingest.formats import ParseOptions
from ingest.lexicons import LexiconFileError, select_lexicons
from ingest.raw_tables import ensure_raw_tables
from signaffect.core.dbt_runner import run_dbt
from signaffect.core.errors import InputFileError, SignAffectError
from signaffect.core.warehouse import connect


def ingest_corpus(
    db: Path,
    paths: Iterable[str | Path],
    progress: Progress | None = None,
    *,
    lexicons: bool = True,
    liwc_dic: Path | None = None,
    lexicon_names: Sequence[str] | None = None,
    categories: Sequence[str] = (),
    tiers: Path | None = None,
    fps: float = DEFAULT_FPS,
    add: bool = False,
) -> IngestSummary:
    """Ingest corpus files (and, unless `lexicons` is off, their lexicon hits) into `db`,
    closing the connection so dbt can open the file. The corpus becomes exactly these files,
    or with `add` these plus those loaded before. `lexicon_names` and `categories`
    (`lexicon:category`) narrow the lexicons; see `ingest.lexicons.select_lexicons`.
    `tiers` is an ELAN tier mapping (default: detect a preset per file); `fps` is the frame
    rate of DAI 2 exports."""
    options = ParseOptions(
        tiers=tier_mapping.load(tiers) if tiers is not None else None, dai2_fps=fps
    )
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
        ensure_raw_tables(con)
        return ingest_signstream(con, paths, chosen, progress, options, add=add)
    finally:
        con.close()


def remove_corpus_files(db: Path, wanted: list[str]) -> list[str]:
    """Delete the stories or files `wanted` from the corpus in `db`; return the file names."""
    con = connect(db, create=False)
    try:
        chosen = match_loaded(loaded_files(con), wanted)
        remove_files(con, chosen)
        return chosen
    finally:
        con.close()


def build_warehouse(
    db: Path, progress: Progress | None = None, dbt_vars: dict[str, object] | None = None
) -> None:
    """`dbt build` every model, seed and test against `db` (`dbt_vars` override vars), after
    checking that this process can write it (so a lock or read-only file is one line, not
    dbt's log)."""
    con = connect(db, create=False)
    try:
        ensure_raw_tables(con)
        backfill_lookups(con)
    finally:
        con.close()
    run_dbt("build", db, dbt_vars=dbt_vars, progress=progress)
