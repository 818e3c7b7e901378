"""The structural rules of the EAF 3.0 schema (EAFv3.0.xsd), checked on a written file.

No installed package ships the XSD (pympi-ling has none, and there is no lxml or xmlschema
here), so `problems` checks what the schema asserts about the structure: the root's
required attributes and version, the order of its children, unique ids (time slots,
annotations, tiers, linguistic types, vocabularies and their entries: xsd:ID and the
schema's keys), every reference resolving (time slots, parent tiers, linguistic types,
constraints, vocabularies, languages, referred annotations: the schema's keyrefs), time
values that are non-negative integers listed in time order, and what ELAN adds on opening:
an aligned annotation starts before it ends, and a value on a tier with a controlled
vocabulary is one of its entries.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable

#: The children of ANNOTATION_DOCUMENT, in the order the schema's sequence fixes.
DOCUMENT_ORDER = (
    "LICENSE", "HEADER", "TIME_ORDER", "TIER", "LINGUISTIC_TYPE", "LOCALE", "LANGUAGE",
    "CONSTRAINT", "CONTROLLED_VOCABULARY", "LEXICON_REF", "REF_LINK_SET", "EXTERNAL_REF",
)
CONSTRAINTS = ("Time_Subdivision", "Symbolic_Subdivision", "Symbolic_Association", "Included_In")


def problems(data: bytes) -> list[str]:
    """Every structural problem of an EAF 3.0 document (empty: none)."""
    root = ET.fromstring(data)  # our own output, never untrusted input
    found: list[str] = []
    if root.tag != "ANNOTATION_DOCUMENT":
        return [f"root element is <{root.tag}>, not <ANNOTATION_DOCUMENT>"]
    for attribute in ("AUTHOR", "DATE", "VERSION"):
        if root.get(attribute) is None:
            found.append(f"<ANNOTATION_DOCUMENT> lacks {attribute}")
    if root.get("VERSION") != "3.0":
        found.append(f"VERSION is {root.get('VERSION')!r}, not '3.0'")
    found += _order(root)
    slots = _time_slots(root, found)
    found += _unique("TIER_ID", root.iterfind("TIER"))
    found += _unique("LINGUISTIC_TYPE_ID", root.iterfind("LINGUISTIC_TYPE"))
    found += _unique("CV_ID", root.iterfind("CONTROLLED_VOCABULARY"))
    found += _unique("CVE_ID", root.iterfind("CONTROLLED_VOCABULARY/CV_ENTRY_ML"))
    found += _unique("LANG_ID", root.iterfind("LANGUAGE"))
    found += _unique("EXT_REF_ID", root.iterfind("EXTERNAL_REF"))
    found += _unique("ANNOTATION_ID", root.iterfind("TIER/ANNOTATION/*"))
    found += _references(root)
    found += _annotations(root, slots)
    return found


def _order(root: ET.Element) -> list[str]:
    places = [DOCUMENT_ORDER.index(c.tag) if c.tag in DOCUMENT_ORDER else -1 for c in root]
    if -1 in places:
        return [f"unknown element <{root[places.index(-1)].tag}> in the document"]
    if places != sorted(places):
        return ["the document's elements are not in the schema's order"]
    if places.count(DOCUMENT_ORDER.index("HEADER")) != 1:
        return ["the document needs exactly one <HEADER>"]
    return []


def _unique(attribute: str, elements: Iterable[ET.Element]) -> list[str]:
    counts = Counter(el.get(attribute) for el in elements)
    missing = [f"an element lacks {attribute}"] if None in counts else []
    return missing + [f"{attribute} {v!r} is not unique" for v, n in counts.items() if n > 1]


def _time_slots(root: ET.Element, found: list[str]) -> dict[str, int | None]:
    slots: dict[str, int | None] = {}
    elements = list(root.iterfind("TIME_ORDER/TIME_SLOT"))
    found += _unique("TIME_SLOT_ID", elements)
    for el in elements:
        raw = el.get("TIME_VALUE")
        if raw is not None and not (raw.isdigit() and raw.isascii()):
            found.append(f"time slot {el.get('TIME_SLOT_ID')!r} has TIME_VALUE {raw!r}")
            raw = None
        slots[el.get("TIME_SLOT_ID", "")] = None if raw is None else int(raw)
    times = [t for t in slots.values() if t is not None]
    if times != sorted(times):
        found.append("TIME_ORDER does not list its time slots in time order")
    return slots


def _references(root: ET.Element) -> list[str]:
    """Every id the document names resolves (the schema's keyrefs)."""
    tiers = {t.get("TIER_ID") for t in root.iterfind("TIER")}
    types = {t.get("LINGUISTIC_TYPE_ID") for t in root.iterfind("LINGUISTIC_TYPE")}
    vocabularies = {v.get("CV_ID") for v in root.iterfind("CONTROLLED_VOCABULARY")}
    languages = {lang.get("LANG_ID") for lang in root.iterfind("LANGUAGE")}
    external = {e.get("EXT_REF_ID") for e in root.iterfind("EXTERNAL_REF")}
    constraints = {c.get("STEREOTYPE") for c in root.iterfind("CONSTRAINT")} & set(CONSTRAINTS)
    checks = [
        ("TIER", "LINGUISTIC_TYPE_REF", types, True),
        ("TIER", "PARENT_REF", tiers, False),
        ("TIER", "LANG_REF", languages, False),
        ("LINGUISTIC_TYPE", "CONTROLLED_VOCABULARY_REF", vocabularies, False),
        ("LINGUISTIC_TYPE", "CONSTRAINTS", constraints, False),
        ("CONTROLLED_VOCABULARY/DESCRIPTION", "LANG_REF", languages, True),
        ("CONTROLLED_VOCABULARY/CV_ENTRY_ML/CVE_VALUE", "LANG_REF", languages, True),
        ("TIER/ANNOTATION/ALIGNABLE_ANNOTATION", "EXT_REF", external, False),
    ]
    found = []
    for path, attribute, known, required in checks:
        for el in root.iterfind(path):
            value = el.get(attribute)
            if value is None and required:
                found.append(f"<{el.tag}> lacks {attribute}")
            elif value is not None and value not in known:
                found.append(f"<{el.tag}> {attribute}={value!r} names nothing")
    return found


def _annotations(root: ET.Element, slots: dict[str, int | None]) -> list[str]:
    """Aligned annotations name known slots and start before they end; referring ones name
    a known annotation; values on a vocabulary's tiers are its entries."""
    entries = {
        cv.get("CV_ID"): {v.text or "" for v in cv.iterfind("CV_ENTRY_ML/CVE_VALUE")}
        for cv in root.iterfind("CONTROLLED_VOCABULARY")
    }
    vocabulary_of = {
        t.get("LINGUISTIC_TYPE_ID"): t.get("CONTROLLED_VOCABULARY_REF")
        for t in root.iterfind("LINGUISTIC_TYPE")
    }
    ids = {a.get("ANNOTATION_ID") for a in root.iterfind("TIER/ANNOTATION/*")}
    found = []
    for tier in root.iterfind("TIER"):
        allowed = entries.get(vocabulary_of.get(tier.get("LINGUISTIC_TYPE_REF")))
        for a in tier.iterfind("ANNOTATION/*"):
            where = f"tier {tier.get('TIER_ID')!r} annotation {a.get('ANNOTATION_ID')!r}"
            if a.tag == "ALIGNABLE_ANNOTATION":
                found += _aligned(a, slots, where)
            elif a.get("ANNOTATION_REF") not in ids:
                found.append(f"{where} refers to an unknown annotation")
            value = a.findtext("ANNOTATION_VALUE")
            if value is None:
                found.append(f"{where} has no ANNOTATION_VALUE")
            elif allowed is not None and value not in allowed:
                found.append(f"{where}: {value!r} is not in the tier's vocabulary")
    return found


def _aligned(a: ET.Element, slots: dict[str, int | None], where: str) -> list[str]:
    refs = (a.get("TIME_SLOT_REF1"), a.get("TIME_SLOT_REF2"))
    if any(r not in slots for r in refs):
        return [f"{where} names an unknown time slot"]
    start, end = (slots[r or ""] for r in refs)
    if start is not None and end is not None and start >= end:
        return [f"{where} does not start before it ends ({start} >= {end} ms)"]
    return []
