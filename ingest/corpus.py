"""Ingest a set of corpus files (SignStream, DAI 2 or ELAN): parse them all, then load them
all in one transaction.

A run is all-or-nothing: if any file fails to parse, nothing is written and every bad file
is reported, so the warehouse never holds half a corpus.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from rich.progress import Progress

from ingest import formats, signstream
from ingest.file_identity import (
    CorpusFile,
    Replacement,
    check_distinct_stories,
    loaded_files,
    plan_replacement,
)
from ingest.lexicon_hits import (
    HITS_SCHEMA,
    LOOKUPS_SCHEMA,
    LOOKUPS_TABLE,
    coverage,
    lexicon_hits,
    lexicon_lookups,
    texts_from_signstream,
)
from ingest.lexicon_hits import (
    RAW_TABLE as LEXICON_HITS_TABLE,
)
from ingest.lexicons import Lexicon
from ingest.raw_store import replace_source_rows
from signaffect.core.errors import InputFileError, SignAffectError


class IngestErrors(SignAffectError):
    """One or more input files are bad; nothing was loaded."""

    def __init__(self, errors: list[InputFileError]) -> None:
        super().__init__(
            f"{len(errors)} file(s) failed; nothing was loaded",
            "fix or remove the files named above and run the ingest again",
        )
        self.errors = errors


@dataclass(frozen=True)
class IngestSummary:
    """What one ingest run loaded: files and rows per raw table."""

    files: list[str]
    rows: dict[str, int]
    lexicon_coverage: dict[str, dict[str, float]]
    replaced: Replacement


def parse_files(
    paths: Iterable[str | Path],
    progress: Progress | None = None,
    options: formats.ParseOptions | None = None,
) -> tuple[list[str], dict[str, pa.Table]]:
    """Parse every file; raise `IngestErrors` naming every bad file before anything is written."""
    files = signstream.expand_paths(paths)
    if not files:
        raise SignAffectError(
            "no .xml or .eaf corpus files found", "pass SignStream, DAI 2 or ELAN files or a folder"
        )
    check_distinct_stories(files)
    names = [f.name for f in files]
    task = progress.add_task("parse corpus files", total=len(files)) if progress else None
    parsed: list[dict[str, pa.Table]] = []
    errors: list[InputFileError] = []
    for path in files:
        try:
            parsed.append(formats.parse(path, options or formats.ParseOptions()))
        except InputFileError as exc:
            errors.append(exc)
        if progress is not None and task is not None:
            progress.advance(task)
    if errors:
        raise IngestErrors(errors)
    tables = {name: pa.concat_tables([p[name] for p in parsed]) for name in signstream.SCHEMAS}
    return names, tables


def ingest_signstream(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | Path],
    lexicons: list[Lexicon],
    progress: Progress | None = None,
    options: formats.ParseOptions | None = None,
    add: bool = False,
    replace: bool = False,
) -> IngestSummary:
    """Parse `paths`, label their glosses and translations with `lexicons`, and replace the
    corpus in `raw` (SignStream tables and lexicon hits) in one transaction: afterwards it
    holds exactly these files, or with `add` these files plus the others loaded before;
    `replace` lets a file replace a story loaded from another path (see
    `ingest.file_identity`)."""
    names, tables = parse_files(paths, progress, options)
    texts = texts_from_signstream(tables)
    hits = lexicon_hits(texts, lexicons) if lexicons else HITS_SCHEMA.empty_table()
    lookups = lexicon_lookups(texts)
    files = tables["signstream_files"].select(["source_file", "content_hash", "source_path"])
    incoming = {
        name: CorpusFile(digest, path)
        for name, digest, path in zip(*(c.to_pylist() for c in files.columns), strict=True)
    }
    replaced = plan_replacement(loaded_files(con), incoming, add, replace)
    lexical = {LEXICON_HITS_TABLE: hits, LOOKUPS_TABLE: lookups}
    replace_source_rows(con, {**tables, **lexical}, names + replaced.dropped)
    return IngestSummary(
        files=names,
        rows={k: v.num_rows for k, v in {**tables, **lexical}.items()},
        lexicon_coverage=coverage(texts, hits),
        replaced=replaced,
    )


def backfill_lookups(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Give `raw.lexicon_lookups` the rows of files ingested before it existed, derived
    from their raw annotations in one transaction, so a warehouse built by an older
    version still has its eligible comparison set. Returns the files filled in."""
    missing = [
        row[0]
        for row in con.execute(
            "select source_file from raw.signstream_files where source_file not in "
            f"(select source_file from raw.{LOOKUPS_TABLE})"
        ).fetchall()
    ]
    if not missing:
        return []
    tables = {
        name: con.sql(
            f"select * from raw.{name} where list_contains($missing, source_file)",
            params={"missing": missing},
        ).to_arrow_table()
        for name in ("signstream_annotations", "signstream_fields")
    }
    lookups = lexicon_lookups(texts_from_signstream(tables))
    if lookups.num_rows == 0:  # files without glosses or translations have no lookups
        return []
    replace_source_rows(con, {LOOKUPS_TABLE: lookups}, missing)
    return sorted(set(lookups.column("source_file").to_pylist()))


#: Every raw table a corpus file has rows in, with its schema.
CORPUS_TABLES: dict[str, pa.Schema] = {
    **signstream.SCHEMAS,
    LEXICON_HITS_TABLE: HITS_SCHEMA,
    LOOKUPS_TABLE: LOOKUPS_SCHEMA,
}


def remove_files(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """Delete every row of the corpus files `names`, in one transaction."""
    replace_source_rows(con, {name: s.empty_table() for name, s in CORPUS_TABLES.items()}, names)
