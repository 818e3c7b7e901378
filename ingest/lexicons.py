"""Word-level emotion lexicons behind one small interface.

A :class:`Lexicon` has a ``name`` (``empath``, ``nrc``, ``liwc``), the ``categories`` it
labels (a selectable subset of what the lexicon knows) and ``categories_for(word)``, the
selected categories one lower-case word belongs to. Labels are ``<lexicon>:<category>``
(``empath:confusion``, ``nrc:anger``, ``liwc:negemo``), see :meth:`Lexicon.label`.

Three implementations, all offline and exact-match on the lower-case word (no lemmatising):

- :class:`EmpathLexicon`: the Empath category word lists shipped with ``empath``
  (default: :data:`EMPATH_EMOTION_CATEGORIES`).
- :class:`NrcLexicon`: the NRC Word-Emotion Association Lexicon (EmoLex) bundled with
  ``nrclex`` (default: :data:`NRC_CATEGORIES`, all ten).
- :class:`LiwcLexicon`: a user-supplied LIWC ``.dic`` file (default: all its categories),
  validated here first, matched (``happ*`` wildcards included) by the ``liwc`` package.

Word lists load once per process and lookups are dictionary (or trie) hits, so labelling a
corpus is fast.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

__all__ = [
    "EMPATH_EMOTION_CATEGORIES",
    "NRC_CATEGORIES",
    "EmpathLexicon",
    "Lexicon",
    "LexiconFileError",
    "LiwcLexicon",
    "NrcLexicon",
    "read_liwc_dic",
    "select_lexicons",
]

# Empath has 194 topical categories; these are its emotion categories. Chosen from
# `Empath().cats` by name, not by tuning on our data: every Empath category named after an
# emotion in Parrott's (2001) tree (primary: love, joy, surprise, anger, sadness, fear;
# secondary: affection, lust, cheerfulness, zest, contentment, pride, optimism, irritability,
# exasperation, rage, disgust, envy, torment, suffering, disappointment, shame, neglect,
# sympathy, horror, nervousness), Plutchik's anticipation, Empath's own valence categories
# (positive_emotion, negative_emotion, emotional) and the remaining affective states confusion,
# hate, aggression and timidity. Left out although emotion-adjacent, because their word lists
# are mostly non-affective: trust (honesty, deals), pain (bruise, headache), warmth (heat),
# fun (sports, parties), weakness (frailty), ridicule and politeness (behaviour).
EMPATH_EMOTION_CATEGORIES: tuple[str, ...] = (
    "positive_emotion",
    "negative_emotion",
    "emotional",
    "affection",
    "aggression",
    "anger",
    "anticipation",
    "cheerfulness",
    "confusion",
    "contentment",
    "disappointment",
    "disgust",
    "envy",
    "exasperation",
    "fear",
    "hate",
    "horror",
    "irritability",
    "joy",
    "love",
    "lust",
    "neglect",
    "nervousness",
    "optimism",
    "pride",
    "rage",
    "sadness",
    "shame",
    "suffering",
    "surprise",
    "sympathy",
    "timidity",
    "torment",
    "zest",
)

# NRC EmoLex: Plutchik's eight emotions, then the two sentiments.
NRC_CATEGORIES: tuple[str, ...] = (
    "anger",
    "anticipation",
    "disgust",
    "fear",
    "joy",
    "sadness",
    "surprise",
    "trust",
    "negative",
    "positive",
)


class LexiconFileError(ValueError):
    """A lexicon file that cannot be read; ``str()`` is ``"<path>:<line>: <problem>"``."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {problem}")


class Lexicon(ABC):
    """Maps a lower-case English word to the selected categories it belongs to."""

    name: str
    categories: tuple[str, ...]

    def __init__(self, available: Sequence[str], categories: Iterable[str] | None) -> None:
        self.available: tuple[str, ...] = tuple(available)
        if categories is None:
            chosen = self.default_categories()
        else:
            chosen = tuple(dict.fromkeys(categories))
        unknown = [c for c in chosen if c not in self.available]
        if unknown:
            raise ValueError(
                f"{self.name}: unknown categories {unknown}; available: {', '.join(self.available)}"
            )
        self.categories = chosen
        self._selected = frozenset(chosen)
        self._order = {category: i for i, category in enumerate(chosen)}
        self._cache: dict[str, list[str]] = {}

    def default_categories(self) -> tuple[str, ...]:
        """Categories used when none are given: all of them unless a subclass says otherwise."""
        return self.available

    @abstractmethod
    def _lookup(self, word: str) -> Iterable[str]:
        """All categories of ``word`` in the full lexicon (any order, repeats allowed)."""

    def categories_for(self, word: str) -> list[str]:
        """Selected categories of ``word`` (lower-case), in the order of ``categories``."""
        hit = self._cache.get(word)
        if hit is None:
            found = {c for c in self._lookup(word) if c in self._selected}
            hit = sorted(found, key=self._order.__getitem__)
            self._cache[word] = hit
        return list(hit)

    def label(self, category: str) -> str:
        """The public label of a category: ``"<lexicon>:<category>"``."""
        return f"{self.name}:{category}"

    @property
    def labels(self) -> list[str]:
        """Labels of the selected categories."""
        return [self.label(c) for c in self.categories]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.categories)} categories)"


# --- Empath ------------------------------------------------------------------------------


@cache
def _empath_categories() -> dict[str, frozenset[str]]:
    """Empath's category -> words, read from its data files as ``Empath()`` reads them (the
    bundled categories.tsv, then every ``data/user/<name>.empath``: one category per line,
    its name then its words, tab-separated). Read here rather than through ``Empath()``,
    whose module imports requests (~0.3 s of every ingest) for its online features."""
    spec = find_spec("empath")  # where the package is, without running its __init__
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("empath is not installed", name="empath")
    data = Path(spec.origin).parent / "data"
    added = sorted(f for f in (data / "user").iterdir() if f.name.split(".")[1:2] == ["empath"])
    files = [data / "categories.tsv", *added]
    categories: dict[str, set[str]] = {}
    for file in files:
        for line in file.read_text().splitlines():
            name, *words = line.strip().split("\t")
            if words:  # as Empath: a category exists once it has a word
                categories.setdefault(name, set()).update(words)
    return {name: frozenset(words) for name, words in categories.items()}


@cache
def _empath_word_index() -> dict[str, tuple[str, ...]]:
    """Inverted Empath lexicon: word -> every category containing it."""
    index: dict[str, list[str]] = {}
    for category, words in _empath_categories().items():
        for word in words:
            index.setdefault(word, []).append(category)
    return {word: tuple(categories) for word, categories in index.items()}


class EmpathLexicon(Lexicon):
    """Empath (Fast et al. 2016) category word lists, exact word match as ``Empath.analyze``."""

    name = "empath"

    def __init__(self, categories: Iterable[str] | None = None) -> None:
        self._index = _empath_word_index()
        super().__init__(sorted(_empath_categories()), categories)

    def default_categories(self) -> tuple[str, ...]:
        return EMPATH_EMOTION_CATEGORIES

    def _lookup(self, word: str) -> Iterable[str]:
        return self._index.get(word, ())


# --- NRC EmoLex -----------------------------------------------------------------------------


@cache
def _nrc_word_index() -> dict[str, tuple[str, ...]]:
    """The EmoLex word -> affects dictionary bundled with ``nrclex`` (what ``NRCLex`` loads)."""
    from nrclex import core as nrclex_core

    data = resources.files("nrclex.data").joinpath(nrclex_core.DEFAULT_LEXICON_FILENAME)
    with data.open("r", encoding="utf-8") as handle:
        raw: dict[str, list[str]] = json.load(handle)
    return {word.lower(): tuple(affects) for word, affects in raw.items()}


class NrcLexicon(Lexicon):
    """NRC Word-Emotion Association Lexicon (Mohammad & Turney 2013) via ``nrclex``."""

    name = "nrc"

    def __init__(self, categories: Iterable[str] | None = None) -> None:
        self._index = _nrc_word_index()
        super().__init__(NRC_CATEGORIES, categories)

    def _lookup(self, word: str) -> Iterable[str]:
        return self._index.get(word, ())


# --- LIWC ---------------------------------------------------------------------------------

_DIC_CATEGORY_LINE = re.compile(r"^\s*(\S+)\s+(\S.*?)\s*$")
_DIC_ID = re.compile(r"^\d+$")
# LIWC2007-style conditional codes such as "(02 134)126" in an entry's category list.
_DIC_CONDITIONAL = re.compile(r"\([^)]*\)\S*")


def read_liwc_dic(path: str | Path) -> tuple[dict[str, list[str]], list[str]]:
    """Read and validate a LIWC ``.dic`` file: ``(pattern -> category names, categories)``.

    The format: a line ``%``; one ``<id><tab><name>`` line per category; a line ``%``; then one
    line per entry, ``<word or prefix*><tab><id>[<tab><id>...]`` (ids may also be separated by
    spaces). Blank lines are skipped; entries are lower-cased; a ``*`` may only end an entry
    (``happ*`` matches any word starting with "happ"). LIWC2007 conditional codes like
    ``(02 134)126`` are ignored, since single words carry no context to evaluate them.

    Raises :class:`LexiconFileError` naming the file and line for anything else: a missing
    file, text that is not UTF-8, a missing ``%``, a bad or repeated category id, an entry
    without categories or with an undeclared id, a ``*`` inside an entry, a repeated entry.
    """
    path = Path(path)
    lines = _dic_lines(path)
    names, first_entry = _dic_categories(path, lines)
    lexicon: dict[str, list[str]] = {}
    for number, raw in enumerate(lines[first_entry:], start=first_entry + 1):
        entry = _dic_entry(path, number, raw, names)
        if entry is None:
            continue
        pattern, categories = entry
        if pattern in lexicon:
            raise LexiconFileError(path, number, f"entry {pattern!r} appears twice")
        lexicon[pattern] = categories
    return lexicon, list(names.values())


def _dic_lines(path: Path) -> list[str]:
    """The file's lines, decoded as UTF-8 (a BOM allowed)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LexiconFileError(path, None, "file not found") from None
    except OSError as exc:
        raise LexiconFileError(path, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
        raise LexiconFileError(path, bad_line, "not UTF-8 text") from None


def _dic_categories(path: Path, lines: list[str]) -> tuple[dict[str, str], int]:
    """The category block: id -> name, and the index of the first line after it."""
    number = 0
    # Header: the first non-blank line must be "%".
    while number < len(lines) and not lines[number].strip():
        number += 1
    if number == len(lines):
        raise LexiconFileError(path, None, "empty file: expected a '%' line first")
    if lines[number].strip() != "%":
        raise LexiconFileError(path, number + 1, "expected '%' to open the category block")
    number += 1
    names: dict[str, str] = {}
    while number < len(lines):
        line = lines[number].strip()
        number += 1
        if line == "%":
            if not names:
                raise LexiconFileError(path, number, "no categories declared")
            return names, number
        if line:
            category_id, category = _dic_category(path, number, line)
            if category_id in names:
                raise LexiconFileError(path, number, f"category id {category_id} declared twice")
            if category in names.values():
                raise LexiconFileError(path, number, f"category {category!r} declared twice")
            names[category_id] = category
    raise LexiconFileError(path, number, "category block is not closed by a '%' line")


def _dic_category(path: Path, number: int, line: str) -> tuple[str, str]:
    match = _DIC_CATEGORY_LINE.match(line)
    if match is None or not _DIC_ID.match(match.group(1)):
        raise LexiconFileError(
            path, number, f"expected '<number><tab><category>' or '%', got {line!r}"
        )
    return str(int(match.group(1))), match.group(2)


def _dic_entry(
    path: Path, number: int, raw: str, names: dict[str, str]
) -> tuple[str, list[str]] | None:
    """One entry line's pattern and categories; None for a blank line or one with only
    conditional codes."""
    if not raw.strip():
        return None
    line = raw.rstrip()
    if "\t" in line:
        pattern, _, rest = line.partition("\t")
    else:
        pattern, _, rest = line.lstrip().partition(" ")
    pattern = pattern.strip().lower()
    ids = _DIC_CONDITIONAL.sub(" ", rest).split()
    if not pattern or pattern == "*":
        raise LexiconFileError(path, number, "entry has no word")
    if "*" in pattern[:-1]:
        raise LexiconFileError(path, number, f"'*' may only end an entry: {pattern!r}")
    if not ids:
        if not _DIC_CONDITIONAL.search(rest):
            raise LexiconFileError(path, number, f"entry {pattern!r} has no category ids")
        return None
    categories: list[str] = []
    for category_id in ids:
        if not _DIC_ID.match(category_id):
            raise LexiconFileError(
                path, number, f"entry {pattern!r}: category id {category_id!r} is not a number"
            )
        category = names.get(str(int(category_id)))
        if category is None:
            raise LexiconFileError(
                path, number, f"entry {pattern!r}: category id {category_id} is not declared"
            )
        if category not in categories:
            categories.append(category)
    return pattern, categories


class LiwcLexicon(Lexicon):
    """A LIWC dictionary from a user ``.dic`` file (LIWC itself is licensed, not bundled).

    The file is validated by :func:`read_liwc_dic`; matching, including ``*`` wildcards, is
    the ``liwc`` package's character trie (``liwc.build_trie`` / ``liwc.search_trie``, what
    ``liwc.load_token_parser`` uses). As in ``liwc``, a word matching a wildcard entry takes
    that entry's categories even when a longer exact entry exists.
    """

    name = "liwc"

    def __init__(self, path: str | Path, categories: Iterable[str] | None = None) -> None:
        import liwc

        self.path = Path(path)
        lexicon, available = read_liwc_dic(self.path)
        trie = liwc.build_trie(lexicon)
        self._search: Callable[[str], list[str]] = lambda word: liwc.search_trie(trie, word)
        super().__init__(available, categories)

    def _lookup(self, word: str) -> Iterable[str]:
        return self._search(word) if word else ()

    def __repr__(self) -> str:
        return f"LiwcLexicon({str(self.path)!r}, {len(self.categories)} categories)"


def select_lexicons(
    names: Sequence[str] | None = None,
    categories: Sequence[str] = (),
    liwc_dic: str | Path | None = None,
) -> list[Lexicon]:
    """The lexicons a user chose, each with its chosen categories.

    `names` picks lexicons (default: empath and nrc, plus liwc when `liwc_dic` is given);
    `categories` holds `lexicon:category` entries that replace that lexicon's default
    category list (a lexicon not named there keeps its defaults).
    """
    wanted: dict[str, list[str]] = {}
    for entry in categories:
        lexicon, _, category = entry.partition(":")
        if not category:
            raise ValueError(f"category {entry!r} must be written lexicon:category")
        wanted.setdefault(lexicon.strip(), []).append(category.strip())
    chosen = list(names) if names else ["empath", "nrc", *(["liwc"] if liwc_dic else [])]
    unknown = sorted((set(chosen) | set(wanted)) - {"empath", "nrc", "liwc"})
    if unknown:
        raise ValueError(f"unknown lexicon {unknown[0]!r}; choose from empath, nrc, liwc")
    if "liwc" in chosen and liwc_dic is None:
        raise ValueError("the liwc lexicon needs a licensed .dic file (--liwc-dic)")
    factories = {
        "empath": lambda cats: EmpathLexicon(cats),
        "nrc": lambda cats: NrcLexicon(cats),
        "liwc": lambda cats: LiwcLexicon(liwc_dic, cats),  # type: ignore[arg-type]
    }
    return [factories[name](wanted.get(name)) for name in chosen]
