"""The steps `cli.py` chains: ingest into raw, then dbt build, each with its own connection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.progress import Progress

from ingest import tier_mapping
from ingest.corpus import IngestSummary, ingest_signstream, remove_files
from ingest.file_identity import CorpusFile, loaded_files, match_loaded
from ingest.formats import ParseOptions
from ingest.lexicons import Lexicon, LexiconFileError, select_lexicons
from ingest.raw_tables import ensure_raw_tables
from pipeline.builds import recorded_build
from pipeline.options import CorpusOptions
from signaffect.core.errors import InputFileError, Interrupted, SignAffectError
from signaffect.core.warehouse import connect, verify_readable


def ingest_corpus(
    db: Path,
    paths: Iterable[str | Path],
    progress: Progress | None = None,
    corpus: CorpusOptions | None = None,
    **changes: Any,
) -> IngestSummary:
    """Ingest corpus files (and, unless `lexicons` is off, their lexicon hits) into `db` as
    `corpus` (with `changes` to its fields) says, closing the connection so dbt can open
    the file."""
    options = replace(corpus or CorpusOptions(), **changes)
    lexicons = _lexicons(options)
    tiers = tier_mapping.load(options.tiers) if options.tiers is not None else None
    parse = ParseOptions(tiers, dai2_fps=options.fps)
    before: dict[str, CorpusFile] | None = None
    try:
        con = connect(db)
        try:
            verify_readable(con)
            ensure_raw_tables(con)
            before = loaded_files(con)
            return ingest_signstream(con, paths, lexicons, progress, parse,
                                     add=options.add, replace=options.replace)
        finally:
            con.close()  # checkpoints: Ctrl-C may land here, after the commit
    except KeyboardInterrupt:
        raise _interrupted(db, before) from None


def _lexicons(corpus: CorpusOptions) -> list[Lexicon]:
    """The lexicons `corpus` asks for (none with `lexicons` off); a bad choice or LIWC file
    is one line naming it."""
    if not corpus.lexicons:
        return []
    try:
        return select_lexicons(corpus.lexicon_names, corpus.categories, corpus.liwc_dic)
    except ValueError as exc:
        if not isinstance(exc, LexiconFileError):
            raise SignAffectError(str(exc), "see `cli.py ingest --help`") from None
        raise InputFileError(
            str(exc.path),
            f"line {exc.line}" if exc.line else "file",
            exc.problem,
            "pass a LIWC .dic file: a %-delimited category block, then word<TAB>ids lines",
        ) from None


def remove_corpus_files(db: Path, wanted: list[str]) -> list[str]:
    """Delete the stories or files `wanted` from the corpus in `db`; return the file names."""
    before: dict[str, CorpusFile] | None = None
    try:
        con = connect(db, create=False)
        try:
            verify_readable(con)
            before = loaded_files(con)
            chosen = match_loaded(before, wanted)
            remove_files(con, chosen)
            return chosen
        finally:
            con.close()
    except KeyboardInterrupt:
        raise _interrupted(db, before) from None


def _interrupted(db: Path, before: dict[str, CorpusFile] | None) -> Interrupted:
    """Ctrl-C during a change of the corpus, with what the warehouse holds now: the change
    is one transaction, so either all of it was committed or none (the signal may land
    just after the commit, so the warehouse is asked rather than assumed unchanged)."""
    if before is None:
        return Interrupted("interrupted, nothing changed: the corpus was not touched yet")
    try:
        con = connect(db, read_only=True)
        try:
            after = loaded_files(con)
        finally:
            con.close()
    except Exception:  # the interrupt is what must be reported
        return Interrupted(
            "interrupted; whether the change was committed is unknown",
            "`cli.py status` lists the corpus files the warehouse holds",
        )
    if after == before:
        return Interrupted("interrupted, nothing changed: the change was not committed")
    added = sorted(name for name, digest in after.items() if before.get(name) != digest)
    removed = sorted(name for name in before if name not in after)
    return Interrupted(
        f"interrupted after the commit: the change is complete ({len(added)} file(s) loaded, "
        f"{len(removed)} removed; the corpus holds {len(after)} file(s))",
        "run `cli.py build` to rebuild the marts",
    )


def build_warehouse(
    db: Path,
    progress: Progress | None = None,
    dbt_vars: dict[str, Any] | None = None,
    force: bool = False,
    write_json: bool = False,
) -> bool:
    """`dbt build` every model, seed and test against `db` (`dbt_vars` override vars),
    recorded in the warehouse (see `pipeline.builds`); False when nothing changed
    since the last build (no dbt run) unless `force`. `write_json`: also dbt's
    run_results.json (for bench/)."""
    return recorded_build(db, progress, dbt_vars, force=force, write_json=write_json) > 0
