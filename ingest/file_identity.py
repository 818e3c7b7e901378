"""Which loaded corpus files an ingest replaces: files are known by name and by content hash.

A file's rows are keyed by its name, but a name alone lets one story sit in the warehouse
twice (renamed on disk and ingested again), where it inflates every count and falls into
two groups under story CV. So an ingest drops, besides the files it loads:

- every loaded file it does not load again, unless it adds to the corpus (`add`): the
  warehouse then holds exactly the files given;
- with `add`, every loaded file with the same content as an incoming one under another
  name (a rename), which the caller reports naming both.

Two incoming files with the same content are refused, like two with the same name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb

from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import table_exists

FILES_TABLE = "raw.signstream_files"


@dataclass(frozen=True)
class Replacement:
    """What an ingest removes: `dropped` file names (besides the incoming ones), `renamed`
    (old name, new name) pairs of the same content, `removed` files not given again."""

    dropped: list[str]
    renamed: list[tuple[str, str]]
    removed: list[str]


def loaded_files(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Loaded corpus file name → content hash (empty before the first ingest)."""
    if not table_exists(con, "raw", "signstream_files"):
        return {}
    rows = con.execute(f"select source_file, content_hash from {FILES_TABLE}").fetchall()
    return {str(name): str(digest) for name, digest in rows}


def check_distinct_content(incoming: Mapping[str, str]) -> None:
    """Refuse two incoming files with the same bytes: one story would be counted twice."""
    first_by_hash: dict[str, str] = {}
    for name, digest in sorted(incoming.items()):
        if digest in first_by_hash:
            raise SignAffectError(
                f"{first_by_hash[digest]} and {name} have the same content",
                "a story must be ingested once: remove one of the two files",
            )
        first_by_hash[digest] = name


def plan_replacement(
    loaded: Mapping[str, str], incoming: Mapping[str, str], add: bool
) -> Replacement:
    """The loaded files an ingest of `incoming` (name → hash) replaces or removes."""
    check_distinct_content(incoming)
    new_name_of = {digest: name for name, digest in incoming.items()}
    renamed = sorted(
        (old, new_name_of[digest])
        for old, digest in loaded.items()
        if old not in incoming and digest in new_name_of
    )
    renamed_old = {old for old, _ in renamed}
    removed = (
        []
        if add
        else sorted(old for old in loaded if old not in incoming and old not in renamed_old)
    )
    return Replacement(dropped=sorted(renamed_old | set(removed)), renamed=renamed, removed=removed)


def match_loaded(loaded: Mapping[str, str], wanted: list[str]) -> list[str]:
    """Loaded file names for `wanted` stories or file names (`storm`, `storm.xml`, a path).

    Raises SignAffectError naming what matched nothing, before anything is removed.
    """
    by_story = {re.sub(r"\.xml$", "", name, flags=re.IGNORECASE): name for name in loaded}
    chosen: list[str] = []
    unknown: list[str] = []
    for item in wanted:
        name = item.replace("\\", "/").rsplit("/", 1)[-1]
        match = name if name in loaded else by_story.get(name)
        if match is None:
            unknown.append(item)
        elif match not in chosen:
            chosen.append(match)
    if unknown:
        raise SignAffectError(
            f"not in the warehouse: {', '.join(unknown)}",
            "`cli.py status` lists the loaded files; nothing was removed",
        )
    return chosen
