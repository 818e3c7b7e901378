"""Which loaded corpus files an ingest replaces: files are known by name, by content hash
and by story (the name without .xml / .eaf, which the models key everything by).

A file's rows are keyed by its name, but a name alone lets one story sit in the warehouse
twice (renamed on disk and ingested again, or as storm.xml beside storm.eaf), where it
inflates every count and falls into two groups under story CV. So an ingest drops, besides
the files it loads:

- every loaded file it does not load again, unless it adds to the corpus (`add`): the
  warehouse then holds exactly the files given;
- with `add`, every loaded file with the same content as an incoming one under another
  name (a rename), which the caller reports naming both;
- a loaded file of an incoming file's story, when it came from the same path (the file
  changed since: reported) or `replace` says so. From another path with other content it
  is refused naming both paths: two files, one story, and nobody said which is right.

Two incoming files with the same content, or of the same story, are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import table_exists

FILES_TABLE = "raw.signstream_files"


@dataclass(frozen=True)
class CorpusFile:
    """What identifies a corpus file besides its name: its content hash and where it was read."""

    content_hash: str
    path: str


@dataclass(frozen=True)
class Replacement:
    """What an ingest removes: `dropped` file names (besides the incoming ones), `renamed`
    (old name, new name) pairs of the same content, `removed` files not given again, and
    `replaced_stories` (story, old path, new path) whose file changed or was replaced."""

    dropped: list[str]
    renamed: list[tuple[str, str]]
    removed: list[str]
    replaced_stories: list[tuple[str, str, str]]


def story_of(name: str) -> str:
    """A file's story, as staging names it: the file name without .xml or .eaf."""
    return re.sub(r"\.(xml|eaf)$", "", name, flags=re.IGNORECASE)


def loaded_files(con: duckdb.DuckDBPyConnection) -> dict[str, CorpusFile]:
    """Loaded corpus file name → its hash and path (empty before the first ingest)."""
    if not table_exists(con, "raw", "signstream_files"):
        return {}
    rows = con.execute(
        f"select source_file, content_hash, source_path from {FILES_TABLE}"
    ).fetchall()
    return {str(name): CorpusFile(str(digest), str(path)) for name, digest, path in rows}


def check_distinct_stories(paths: list[Path]) -> None:
    """Refuse two files of one story (storm.xml beside storm.eaf, or two folders' storm.xml),
    before anything is parsed."""
    first: dict[str, Path] = {}
    for path in paths:
        story = story_of(path.name)
        if story in first:
            raise SignAffectError(
                f"{first[story]} and {path} are both story {story!r}",
                "a story is one file (its name without .xml / .eaf): rename or leave out one",
            )
        first[story] = path


def check_distinct_content(incoming: Mapping[str, CorpusFile]) -> None:
    """Refuse two incoming files with the same bytes: one story would be counted twice."""
    first_by_hash: dict[str, str] = {}
    for name, file in sorted(incoming.items()):
        if file.content_hash in first_by_hash:
            raise SignAffectError(
                f"{first_by_hash[file.content_hash]} and {name} have the same content",
                "a story must be ingested once: remove one of the two files",
            )
        first_by_hash[file.content_hash] = name


def plan_replacement(
    loaded: Mapping[str, CorpusFile],
    incoming: Mapping[str, CorpusFile],
    add: bool,
    replace: bool = False,
) -> Replacement:
    """The loaded files an ingest of `incoming` replaces or removes (see the module)."""
    check_distinct_content(incoming)
    new_name_of = {file.content_hash: name for name, file in incoming.items()}
    renamed = sorted(
        (old, new_name_of[file.content_hash])
        for old, file in loaded.items()
        if old not in incoming and file.content_hash in new_name_of
    )
    renamed_old = {old for old, _ in renamed}
    same_story = _same_story(loaded, incoming, renamed_old, replace)
    removed = (
        []
        if add
        else sorted(
            old for old in loaded if old not in incoming and old not in renamed_old | same_story
        )
    )
    return Replacement(
        dropped=sorted(renamed_old | same_story | set(removed)),
        renamed=renamed,
        removed=removed,
        replaced_stories=_replaced_stories(loaded, incoming, renamed_old),
    )


def _story_pairs(
    loaded: Mapping[str, CorpusFile], incoming: Mapping[str, CorpusFile], renamed: set[str]
) -> list[tuple[str, str]]:
    """(loaded name, incoming name) of one story with other content (renames aside)."""
    by_story = {story_of(name): name for name in incoming}
    return sorted(
        (old, by_story[story_of(old)])
        for old, file in loaded.items()
        if old not in renamed
        and story_of(old) in by_story
        and file.content_hash != incoming[by_story[story_of(old)]].content_hash
    )


def _same_story(
    loaded: Mapping[str, CorpusFile],
    incoming: Mapping[str, CorpusFile],
    renamed: set[str],
    replace: bool,
) -> set[str]:
    """Loaded files an incoming one of their story replaces; refuses one from another path
    unless `replace`."""
    pairs = _story_pairs(loaded, incoming, renamed)
    conflicts = [(o, n) for o, n in pairs if loaded[o].path != incoming[n].path]
    if conflicts and not replace:
        old, new = conflicts[0]
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        raise SignAffectError(
            f"{incoming[new].path} is story {story_of(new)!r}, already loaded from "
            f"{loaded[old].path} with other content{more}; nothing was loaded",
            "pass --replace to replace the loaded story, or rename one of the files",
        )
    return {old for old, new in pairs if old != new}


def _replaced_stories(
    loaded: Mapping[str, CorpusFile], incoming: Mapping[str, CorpusFile], renamed: set[str]
) -> list[tuple[str, str, str]]:
    return [
        (story_of(new), loaded[old].path, incoming[new].path)
        for old, new in _story_pairs(loaded, incoming, renamed)
    ]


def match_loaded(loaded: Mapping[str, CorpusFile], wanted: list[str]) -> list[str]:
    """Loaded file names for `wanted` stories or file names (`storm`, `storm.xml`, a path).

    Raises SignAffectError naming what matched nothing, before anything is removed.
    """
    by_story = {story_of(name): name for name in loaded}
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
