"""Turn ASL glosses and English translations into English lookup words for the lexicons.

Two pure functions, no I/O:

- :func:`gloss_to_words` maps one NCSLGR (SignStream) gloss, e.g. ``(2h)alt.GIVE++:j``, to the
  English words a lexicon can look up (``["give"]``).
- :func:`translation_to_words` is a plain word tokeniser for the English translation field.

Both return lower-case words made of letters and inner apostrophes only, after Unicode NFKC
normalisation, so ``"Café"`` and ``"cafe\\u0301"`` both give ``"café"``.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["gloss_to_words", "gloss_words_and_source", "translation_to_words"]

#: Where a gloss's lookup words come from: the sign's own English word(s), or the quoted
#: English description of a classifier, gesture or handshape sign (rule 3 below), which
#: describes what the hands and face show rather than naming the sign.
WORD = "word"
DESCRIPTION = "description"

# A word: letters (any script), optionally joined by inner apostrophes ("don't", "john's").
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")

# Typographic quotes folded to ASCII before anything else.
_QUOTE_FOLD = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"'}
)

# Leading modifiers of a gloss that carry no English meaning, stripped repeatedly:
# hand / handshape in parentheses "(2h)", "(1h)", "(5)", "(U-L)", "(flat-O)"; alternating
# movement "alt."; start locus "i:", "neu:", "1p:".
_LEADING_MODIFIER = re.compile(r"^(?:\([^()]*\)|alt\.|(?:[a-z]|neu|\d+p):)")
# Trailing end locus / agreement index ":i", ":1p", ":3", ":i/j/k" and repetition "+", "++".
_TRAILING_MARK = re.compile(r"(?::[a-z0-9/]+|\++)$")
# Classifier predicates: CL, BCL, DCL, ICL, LCL, PCL, SCL, BPCL, with optional ":handshape".
_CLASSIFIER = re.compile(r"^[A-Z]*CL(?::.*)?$")
# One component of a handshape name: "5", "B", "flat", "crvd", "over" ("B-L", "crvd-V",
# "X-over-thumb", "I-L-Y", "3>1", "curved 5"); the lower-case "gest" of gesture glosses also fits.
_HANDSHAPE_PART = re.compile(r"^(?:\d+|[A-Z]|[a-z]+)$")
# Pointing / indexing glosses: IX anywhere ("IX-3p:i", "THUMB-IX-loc:m"), or POSS / SELF
# followed only by person / locus marks ("POSS-1p", "SELF-3p").
_POINTING_WORDS = frozenset({"IX"})
_PRONOUN_HEADS = frozenset({"POSS", "SELF"})
# Morphemes rendered specially: the agentive suffix (TEACH+AGENT "teacher") adds no English
# word; NEG (WANT+NEG) is "not"; QM (QMwg, the wiggled question mark) marks a question
# grammatically and adds no word (as "question" it made Empath call it confusion).
_SPECIAL_WORDS: dict[str, list[str]] = {"AGENT": [], "NEG": ["not"], "QM": []}


def translation_to_words(text: str) -> list[str]:
    """Split English text into lower-case words of letters and inner apostrophes.

    Digits, punctuation and hyphens separate words ("twenty-five" -> ["twenty", "five"]);
    typographic apostrophes (U+2019) count as "'" ("don't"); non-ASCII letters are kept
    ("Café" -> ["café"]). Words are returned in order, repeats included.
    """
    if not text:
        return []
    normal = unicodedata.normalize("NFKC", text).translate(_QUOTE_FOLD).lower()
    return _WORD.findall(normal)


def gloss_to_words(gloss: str) -> list[str]:
    """Map one ASL gloss (NCSLGR / SignStream conventions) to English lookup words.

    Output words are lower-case, de-duplicated in order of first appearance, and made of
    letters and inner apostrophes only (as in :func:`translation_to_words`). Rules, in the
    order they apply:

    1. Unicode NFKC normalisation, typographic quotes folded to ASCII, outer spaces removed.
       Empty text, or a leading "(" that never closes (a truncated "(U-L"), gives [].
    2. Meaningless leading modifiers are stripped, repeatedly: hand count and handshape in
       parentheses ``(2h)``, ``(1h)``, ``(5)``, ``(U-L)``, ``(flat-O)``; alternating movement
       ``alt.``; start locus ``i:``, ``neu:``, ``1p:``. So ``(1h)HAVE`` -> ["have"],
       ``i:(2h)alt.GIVE++:j`` -> ["give"].
    3. A double-quoted part is an English description: for classifiers (``CL:3"car drive"``,
       ``BCL"open door"``, ``DCL:5"pile"``, ``LCL:B"ground"``, ``SCL:1"person walking"``,
       ``BPCL``, ``ICL``, ``PCL``), handshape gestures (``5"I don't know"``,
       ``B-L"go ahead"``, ``gest"come on"``) and bare quoted gestures (``"WHAT"``, ``"um"``)
       the words are the quoted words: ``CL:3"car drive"`` -> ["car", "drive"],
       ``5"surprised"`` -> ["surprised"]. A quoted part after pointing (``IX-loc"up there"``)
       gives []; after a lexical sign (``EXTRACT-FROM"up-right-to-center"``) it is a
       direction and is ignored.
    4. Without quotes: a classifier (``CL:3``, ``BCL``) or a particle (``part:indef``) gives [].
    5. End marks are stripped: locus / agreement index ``:i``, ``:1p``, ``:i/j/k`` and
       repetition ``+``, ``++``, ``+++`` (``AGAIN+++`` -> ["again"], ``GIFT++:j`` -> ["gift"]).
    6. Compounds split into parts on ``+``, ``^`` and ``/`` (``MOTHER^FATHER`` -> ["mother",
       "father"], ``TEACH+AGENT``, ``SOMETHING/ONE``), and each part on ``-``
       (``NOT-YET`` -> ["not", "yet"], ``THUMBS-UP/GOOD`` -> ["thumbs", "up", "good"]). Each
       part loses its own leading modifiers and end marks (``KNOW+(1h)NEG``).
    7. Pointing / indexing gives no word: any part with an ``IX`` component (``IX-1p``,
       ``IX-3p:i``, ``IX-loc``, ``THUMB-IX-3p:k``), and ``POSS`` / ``SELF`` with only
       person or locus marks (``POSS-1p``, ``POSS-3p:j``, ``SELF-1p``).
    8. Prefixes: fingerspelling ``fs-JOHN`` -> ["john"]; name signs ``ns-BOSTON``,
       ``ns-fs-IOWA``, ``ns-nat-AUSTRALIA``; lexicalised fingerspelling ``#CAR`` -> ["car"].
    9. Within a part: sign variant numbers ``READ_2`` -> ["read"]; lower-case annotation
       components ``-pl``, ``-arc``, ``-indef``, ``-inceptive``, ``-distributive``, ``-recip``,
       ``-honorific``, ``-shake``, person marks ``-1p``/``-3p``, bare numbers, and notes such
       as ``false start`` are dropped; a lower-case tail on a gloss word is dropped
       (``MOTHERwg`` -> ["mother"]).
    10. Special morphemes: agentive ``AGENT`` adds nothing (``TEACH+AGENT`` -> ["teach"]),
        ``NEG`` is "not" (``WANT+NEG`` -> ["want", "not"]), the question marker ``QM`` adds
        nothing (``QMwg`` -> []): it is grammar, not the English word "question". A part
        starting with an apostrophe joins the previous word (``SIXTY+'S`` -> ["sixty's"]).
    """
    return gloss_words_and_source(gloss)[0]


def gloss_words_and_source(gloss: str) -> tuple[list[str], str]:
    """The words of :func:`gloss_to_words` and where they come from: :data:`DESCRIPTION`
    when they are the quoted description of a classifier, handshape gesture or bare quoted
    gesture (rule 3: ``5"surprised"``, ``BCL"shocked"``), else :data:`WORD`."""
    text = unicodedata.normalize("NFKC", gloss or "").translate(_QUOTE_FOLD).strip()
    if not text:
        return [], WORD
    if '"' in text:
        before, _, rest = text.partition('"')
        quoted = rest.partition('"')[0]
        head = _strip_marks(_strip_leading(before))
        if head is None or _is_pointing(head):
            return [], WORD
        if not head or _CLASSIFIER.match(head) or _is_handshape(head):
            return _dedupe(translation_to_words(quoted)), DESCRIPTION
        text = head
    return _dedupe(_lexical_words(text)), WORD


def _strip_leading(text: str) -> str | None:
    """Remove leading modifiers (rule 2); None when a "(" is never closed."""
    text = text.strip()
    while True:
        match = _LEADING_MODIFIER.match(text)
        if match is None:
            break
        text = text[match.end() :].strip()
    if text.startswith("(") and ")" not in text:
        return None
    return text


def _strip_marks(text: str | None) -> str | None:
    """Remove trailing locus indices and repetition marks (rule 5), repeatedly."""
    if text is None:
        return None
    previous = None
    while previous != text:
        previous = text
        text = _TRAILING_MARK.sub("", text).strip()
    return text


def _is_handshape(head: str) -> bool:
    """True for a handshape name before a quoted gesture ("5", "B-L", "flat-B", "gest")."""
    if head.endswith("wg"):
        head = head[:-2]
    parts = [p for p in re.split(r"[-\s>]+", head) if p]
    return bool(parts) and all(_HANDSHAPE_PART.match(p) for p in parts)


def _is_pointing(part: str) -> bool:
    """True for pointing, possessive and reflexive index glosses (rule 7)."""
    components = [c for c in re.split(r"[-:]", part) if c]
    if any(c in _POINTING_WORDS for c in components):
        return True
    if components and components[0] in _PRONOUN_HEADS:
        return all(not _gloss_core(c).isalpha() for c in components[1:])
    return False


def _lexical_words(text: str) -> list[str]:
    """Words of a gloss without a quoted description (rules 4 to 10)."""
    stripped = _strip_marks(_strip_leading(text))
    if not stripped or stripped.startswith("part:") or _CLASSIFIER.match(stripped):
        return []
    words: list[str] = []
    for raw_part in re.split(r"[+^/]+", stripped):
        part = _strip_marks(_strip_leading(raw_part))
        if not part or _is_pointing(part) or _CLASSIFIER.match(part):
            continue
        if part.startswith("'") and words:
            words[-1] += part.lower()
            continue
        part = re.sub(r"^(?:ns-|nat-|fs-)+", "", part)
        for component in part.split("-"):
            words.extend(_component_words(component))
    return [w for word in words for w in translation_to_words(word)]


def _component_words(component: str) -> list[str]:
    """English words of one hyphen-separated component of a gloss part (rules 8 to 10)."""
    core = _gloss_core(re.sub(r"_\d+$", "", component.strip()))
    if not core or core.isdigit():  # annotation ("pl", "arc", "false start"), number, "1p"
        return []
    if core in _SPECIAL_WORDS:
        return _SPECIAL_WORDS[core]
    return [core.lower()]


def _gloss_core(component: str) -> str:
    """The upper-case gloss word of a component, without "#" and a lower-case tail.

    "MOTHERwg" -> "MOTHER", "#CAR" -> "CAR", "1p" -> "1", "CAFÉ" -> "CAFÉ"; a component that
    starts in lower case ("pl", "arc", "loc") or mixes cases inside the tail gives "".
    """
    component = component.lstrip("#")
    end = 0
    while end < len(component) and (component[end].isupper() or component[end] in "0123456789'"):
        end += 1
    tail = component[end:]
    if tail and not tail.islower():
        return ""
    return component[:end]


def _dedupe(words: list[str]) -> list[str]:
    """Keep the first occurrence of each word, in order."""
    return list(dict.fromkeys(words))
