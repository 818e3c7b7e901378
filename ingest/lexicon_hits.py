"""Lexical emotion labels of glosses and translations: one row per lexicon hit.

- :func:`lexicon_hits` (pure): text annotations in, one Arrow row per (word, category) hit out.
  A main-gloss annotation is labelled at ``sign`` scope (its words come from
  :func:`ingest.gloss_normalize.gloss_to_words`), an English translation at ``utterance``
  scope (:func:`ingest.gloss_normalize.translation_to_words`).
- :func:`lexicon_lookups` (pure): one row per text annotation with its words, how many of
  them were looked up, and where they come from (the sign's word or a quoted description):
  what decides which signs could have carried a label, and which labels describe a display.
- :func:`coverage`: how many signs and utterances have at least one hit.
- :func:`texts_from_signstream`: the ``texts`` input, from parsed SignStream tables.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingest.gloss_normalize import WORD, gloss_words_and_source, translation_to_words
from ingest.lexicons import Lexicon
from ingest.signstream import normalize_field_name

__all__ = [
    "HITS_SCHEMA",
    "LOOKUPS_SCHEMA",
    "NCSLGR_PERSON_NAMES",
    "SCOPE_BY_FIELD",
    "TEXTS_SCHEMA",
    "coverage",
    "lexicon_hits",
    "lexicon_lookups",
    "scope_of_field",
    "texts_from_signstream",
]

# The annotation a text or a hit belongs to.
_ANNOTATION = [(name, pa.string()) for name in ("source_file", "content_hash")] + [
    (name, pa.int64()) for name in ("utterance_id", "annotation_id")
]
# Input: one row per text annotation (the parser's gloss / translation annotations).
TEXTS_SCHEMA = pa.schema([*_ANNOTATION, ("field_name", pa.string()), ("text", pa.string())])
# Output: one row per hit. The key is (source_file, annotation_id, token_index, label).
HITS_SCHEMA = pa.schema(
    [
        *_ANNOTATION,
        *[(name, pa.string()) for name in ("scope", "lexicon", "category", "label", "token")],
        ("token_index", pa.int32()),
        ("source_text", pa.string()),
    ]
)

# Text fields that are labelled, by field NAME (never by id: one NCSLGR file numbers its
# English translation 20003), compared normalised (`normalize_field_name`) and case-folded.
# Other text fields (non-dominant hand gloss, literal translation) are not labelled.
SCOPE_BY_FIELD: dict[str, str] = {"main gloss": "sign", "english translation": "utterance"}
#: Distinct texts whose words are kept: a corpus repeats its glosses (NCSLGR: 14,000 signs,
#: a few thousand glosses), and a larger corpus only some more.
WORDS_CACHE_SIZE = 1 << 16

# People named in NCSLGR (its fingerspelled "fs-" name glosses and the translations). Their
# lower-case forms are never looked up, because some are lexicon words with another sense:
# "john" is NRC disgust/negative (421 fs-JOHN signs), "sue" anger/sadness/negative, "frank"
# trust/positive, "carol" joy/trust/positive, "king" (Rodney King) positive. The corpus never
# uses these words in a common-noun or verb sense. Pass ``skip_tokens`` for other corpora.
NCSLGR_PERSON_NAMES: frozenset[str] = frozenset(
    {
        "ali", "ann", "beverly", "bill", "carol", "dana", "daisy", "erick", "frank", "freda",
        "jana", "joan", "john", "king", "lombardi", "mary", "mike", "muhammad", "norman",
        "paul", "peterson", "rico", "rodney", "silber", "sue", "tony", "vince", "westling",
    }
)  # fmt: skip

# One row per labelled text annotation: its words in order, space-separated (words are
# letters and apostrophes only; a hit's token_index is its position here), how many were
# looked up (people's names are not), and `label_source`.
LOOKUPS_SCHEMA = pa.schema(
    [
        *_ANNOTATION,
        ("scope", pa.string()),
        ("words", pa.string()),
        ("n_lookup_words", pa.int32()),
        ("label_source", pa.string()),
        ("source_text", pa.string()),
    ]
)

RAW_TABLE = "lexicon_hits"
LOOKUPS_TABLE = "lexicon_lookups"


@lru_cache(maxsize=1024)
def scope_of_field(field_name: str | None) -> str | None:
    """``"sign"`` for the main gloss, ``"utterance"`` for the English translation, else None."""
    if field_name is None:
        return None
    return SCOPE_BY_FIELD.get(normalize_field_name(field_name).casefold())


@lru_cache(maxsize=WORDS_CACHE_SIZE)
def words_of(scope: str, text: str) -> tuple[tuple[str, ...], str]:
    """The words of one text (a gloss at ``sign`` scope, a translation at ``utterance``) and
    where they come from (:func:`ingest.gloss_normalize.gloss_words_and_source`): what
    :func:`lexicon_hits` looks up and :func:`lexicon_lookups` stores, split once per
    distinct text."""
    if scope == "sign":
        words, source = gloss_words_and_source(text)
        return tuple(words), source
    return tuple(translation_to_words(text)), WORD


def lexicon_hits(
    texts: pa.Table,
    lexicons: Sequence[Lexicon],
    skip_tokens: Collection[str] = NCSLGR_PERSON_NAMES,
) -> pa.Table:
    """Label gloss and translation words with lexicon categories: one row per hit.

    ``texts`` has the columns of :data:`TEXTS_SCHEMA`. Each row's text becomes words (by
    scope, see the module doc); each word that a lexicon puts in one of its selected
    categories gives a row with the lexicon, category, label ``<lexicon>:<category>``, the
    word (``token``), its position among the annotation's words (``token_index``) and the
    whole annotation text (``source_text``). Words in ``skip_tokens`` (default: the people
    of NCSLGR, :data:`NCSLGR_PERSON_NAMES`) are not looked up but keep their position. Rows
    of other fields, and null or blank texts, give nothing. Output columns:
    :data:`HITS_SCHEMA`, in input row order.
    """
    missing = [name for name in TEXTS_SCHEMA.names if name not in texts.column_names]
    if missing:
        raise ValueError(f"lexicon_hits: texts lacks columns {missing}")
    columns = {name: texts.column(name).to_pylist() for name in TEXTS_SCHEMA.names}
    out: dict[str, list[Any]] = {name: [] for name in HITS_SCHEMA.names}

    for i, text in enumerate(columns["text"]):
        scope = scope_of_field(columns["field_name"][i])
        if scope is None or not text or not text.strip():
            continue
        words, _ = words_of(scope, text)
        for token_index, token in enumerate(words):
            if token in skip_tokens:
                continue
            for lexicon in lexicons:
                for category in lexicon.categories_for(token):
                    out["source_file"].append(columns["source_file"][i])
                    out["content_hash"].append(columns["content_hash"][i])
                    out["utterance_id"].append(columns["utterance_id"][i])
                    out["annotation_id"].append(columns["annotation_id"][i])
                    out["scope"].append(scope)
                    out["lexicon"].append(lexicon.name)
                    out["category"].append(category)
                    out["label"].append(lexicon.label(category))
                    out["token"].append(token)
                    out["token_index"].append(token_index)
                    out["source_text"].append(text)
    return pa.table(out, schema=HITS_SCHEMA)


def lexicon_lookups(
    texts: pa.Table, skip_tokens: Collection[str] = NCSLGR_PERSON_NAMES
) -> pa.Table:
    """One row per main-gloss or English-translation annotation with its words (as
    :func:`lexicon_hits` splits them), the number looked up (not in ``skip_tokens``) and
    ``label_source``: ``description`` when a gloss's words are a quoted description
    (:func:`ingest.gloss_normalize.gloss_words_and_source`), else ``word``. A sign with no
    word looked up (pointing, classifiers without a description, names) can never carry a
    label. Columns: :data:`LOOKUPS_SCHEMA`, in input row order."""
    out: dict[str, list[Any]] = {name: [] for name in LOOKUPS_SCHEMA.names}
    for row in texts.select(TEXTS_SCHEMA.names).to_pylist():
        scope = scope_of_field(row["field_name"])
        text = row["text"]
        if scope is None or not text or not text.strip():
            continue
        words, source = words_of(scope, text)
        for name in ("source_file", "content_hash", "utterance_id", "annotation_id"):
            out[name].append(row[name])
        out["scope"].append(scope)
        out["words"].append(" ".join(words))
        out["n_lookup_words"].append(sum(1 for word in words if word not in skip_tokens))
        out["label_source"].append(source)
        out["source_text"].append(text)
    return pa.table(out, schema=LOOKUPS_SCHEMA)


def coverage(texts: pa.Table, hits: pa.Table) -> dict[str, dict[str, float]]:
    """Share of signs and utterances with at least one lexicon hit.

    Returns ``{"sign": {...}, "utterance": {...}}``, each with ``covered`` (units with >= 1
    hit), ``total`` and ``share`` (covered / total, 0.0 when total is 0). A sign is a
    main-gloss annotation (``source_file``, ``annotation_id``), blank glosses included in the
    total; an utterance is (``source_file``, ``utterance_id``) with a non-blank English
    translation.
    """
    totals: dict[str, set[tuple[str, int]]] = {"sign": set(), "utterance": set()}
    for source_file, utterance_id, annotation_id, field_name, text in zip(
        texts.column("source_file").to_pylist(),
        texts.column("utterance_id").to_pylist(),
        texts.column("annotation_id").to_pylist(),
        texts.column("field_name").to_pylist(),
        texts.column("text").to_pylist(),
        strict=True,
    ):
        scope = scope_of_field(field_name)
        if scope == "sign":
            totals["sign"].add((source_file, annotation_id))
        elif scope == "utterance" and text and text.strip():
            totals["utterance"].add((source_file, utterance_id))

    covered: dict[str, set[tuple[str, int]]] = {"sign": set(), "utterance": set()}
    for source_file, utterance_id, annotation_id, scope in zip(
        hits.column("source_file").to_pylist(),
        hits.column("utterance_id").to_pylist(),
        hits.column("annotation_id").to_pylist(),
        hits.column("scope").to_pylist(),
        strict=True,
    ):
        unit = (source_file, annotation_id if scope == "sign" else utterance_id)
        if unit in totals.get(scope, ()):
            covered[scope].add(unit)

    result: dict[str, dict[str, float]] = {}
    for scope, units in totals.items():
        total = len(units)
        n = len(covered[scope])
        result[scope] = {"covered": n, "total": total, "share": n / total if total else 0.0}
    return result


def texts_from_signstream(tables: Mapping[str, pa.Table]) -> pa.Table:
    """The gloss and translation annotations of parsed SignStream tables, as ``texts``.

    ``tables`` is what :func:`ingest.signstream.parse` (or ``corpus.parse_files``) returns;
    uses ``signstream_annotations`` and ``signstream_fields``. Fields are matched by NAME
    (:func:`scope_of_field`), never by id, and only English ones are kept (``language``
    null or ``en``: the lexicons are English; a DGS gloss tier is German). Annotations
    without text are dropped. Columns: :data:`TEXTS_SCHEMA`, with ``field_name`` as raw
    stores it (normalised).
    """
    annotations = tables["signstream_annotations"]
    fields = tables["signstream_fields"]
    keep = [
        scope_of_field(name) is not None and (language or "en").strip().lower() == "en"
        for name, language in zip(
            fields.column("name").to_pylist(), fields.column("language").to_pylist(), strict=True
        )
    ]
    fields = fields.filter(pa.array(keep, pa.bool_())).select(["source_file", "field_id", "name"])
    annotations = annotations.filter(pc.invert(pc.is_null(annotations.column("text"))))
    joined = annotations.join(fields, keys=["source_file", "field_id"], join_type="inner")
    joined = joined.sort_by([("source_file", "ascending"), ("annotation_id", "ascending")])
    return pa.table(
        {
            "source_file": joined.column("source_file"),
            "content_hash": joined.column("content_hash"),
            "utterance_id": joined.column("utterance_id"),
            "annotation_id": joined.column("annotation_id"),
            "field_name": joined.column("name"),
            "text": joined.column("text"),
        },
        schema=TEXTS_SCHEMA,
    )
