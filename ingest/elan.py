"""Parse one ELAN (.eaf) file, read with pympi-ling through a tier mapping, into the raw contract.

ELAN has tiers where SignStream has fields, absolute times where SignStream has
utterance-relative ones, and no utterances at all: the mapping's utterance tier (usually the
translation) supplies them. Each mapped annotation goes to the utterance of the same signer
that contains its start, with times made relative to it and its end stored as SignStream
stores E (the start of its last frame), so staging treats every format alike. Symbolic child
tiers take their parent annotation's times; an annotation whose EXT_REF is also an
utterance annotation's belongs to that utterance (how an exported file, whose utterances may
overlap in time, says which utterance each annotation is of). The bytes are checked with
defusedxml before pympi (which uses the standard library parser) reads the file, and every
structural problem is an `InputFileError` naming the file and the element.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyarrow as pa
from pympi.Elan import Eaf

from ingest.signstream import TRANSITION_IDS_BY_NAME, FileContext, RawRows, SchemeIds, open_xml
from ingest.tier_mapping import TierMapping, TierRule, detect

# The value an empty annotation on a coded tier gets: its span marks presence.
PRESENT = "present"
# Symbolic associations deeper than this are a loop, not a tier hierarchy.
_MAX_REFERENCE_DEPTH = 32


@dataclass(frozen=True)
class _Span:
    """One annotation of a mapped tier, with absolute times in ms."""

    tier_id: str
    annotation_id: str
    rule: TierRule
    signer: str
    start: int
    end: int
    value: str
    link: str | None  # the annotation's EXT_REF, which may name its utterance


@dataclass(frozen=True)
class _Utterance:
    utterance_id: int
    signer: str
    start: int
    end: int
    key: tuple[str, str]  # (tier, annotation) of the utterance tier's annotation
    link: str | None


def parse(path: str | Path, mapping: TierMapping | None = None) -> dict[str, pa.Table]:
    """Parse one .eaf file with `mapping` (default: `<stem>.tiers.toml` beside it, else the
    shipped preset its tiers match)."""
    ctx, data, root = open_xml(path, "ANNOTATION_DOCUMENT", "ELAN")
    _check_unique_ids(ctx, root)
    if mapping is None:
        mapping = detect(ctx.path, [tier.get("TIER_ID", "") for tier in root.iterfind("TIER")])
    eaf = _read_eaf(ctx)
    links = {
        a.get("ANNOTATION_ID", ""): a.get("EXT_REF")
        for a in root.iterfind("TIER/ANNOTATION/ALIGNABLE_ANNOTATION")
        if a.get("EXT_REF")
    }
    spans = _spans(ctx, eaf, mapping, links)
    if not any(s.rule.tier == mapping.utterance_tier for s in spans):
        raise ctx.fail(
            "<TIER>",
            f"no annotations on the utterance tier {mapping.utterance_tier!r} of mapping "
            f"{mapping.name!r}; the file has tiers {', '.join(map(repr, eaf.tiers))}",
            "pass a tier mapping that fits this file with --tiers FILE",
        )
    rows = RawRows(
        ctx.path,
        data,
        "elan",
        mapping.frames_per_second,
        database_version=eaf.adocument.get("VERSION"),
    )
    utterances = _utterances(mapping, spans)
    signers = list(dict.fromkeys(u.signer for u in utterances))
    for participant_id, signer in enumerate(signers):
        rows.participant(participant_id, signer, label=signer)
    media_ids = _media_files(eaf, rows)
    for u in utterances:
        rows.utterance(u.utterance_id, (u.start, u.end), None, media_ids)
        rows.segment(u.utterance_id, signers.index(u.signer))
    _fields_and_annotations(mapping, spans, utterances, signers, rows)
    return rows.to_arrow()


# The ids pympi keys its dictionaries by, per element: a repeated one would silently
# overwrite the first.
_ID_ATTRIBUTES = {
    "TIME_SLOT": "TIME_SLOT_ID",
    "TIER": "TIER_ID",
    "ALIGNABLE_ANNOTATION": "ANNOTATION_ID",
    "REF_ANNOTATION": "ANNOTATION_ID",
}


def _check_unique_ids(ctx: FileContext, root: ET.Element) -> None:
    """Refuse a time slot, tier or annotation id used twice (annotations share one space)."""
    seen: dict[str, set[str]] = {}
    for el in root.iter():
        attribute = _ID_ATTRIBUTES.get(el.tag)
        ident = el.get(attribute) if attribute else None
        if attribute is None or ident is None:
            continue
        ids = seen.setdefault(attribute, set())
        if ident in ids:
            raise ctx.fail(
                f"<{el.tag} {attribute}={ident!r}>",
                f"duplicate {attribute}: a second element with it would replace the first",
                "give every element its own id (ELAN itself never repeats one)",
            )
        ids.add(ident)


def _read_eaf(ctx: FileContext) -> Eaf:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Eaf(str(ctx.path), suppress_version_warning=True)
    except KeyError as exc:
        raise ctx.fail("document", f"an element lacks the required attribute {exc}") from None
    except (ValueError, IndexError, TypeError) as exc:
        raise ctx.fail("document", f"ELAN reader (pympi) failed: {exc}") from None


def _tier_signer(
    ctx: FileContext, mapping: TierMapping, attributes: dict[str, str], suffix: str | None
) -> str:
    """PARTICIPANT attribute, else the `{signer}` part of the tier name, else the mapping's."""
    participant = (attributes.get("PARTICIPANT") or "").strip()
    return participant or suffix or mapping.signer or f"unknown signer of {ctx.path.name}"


def _spans(
    ctx: FileContext, eaf: Eaf, mapping: TierMapping, links: dict[str, str | None]
) -> list[_Span]:
    """Every annotation of a mapped tier, with times resolved and checked."""
    for tier_id, (_, _, attributes, _) in eaf.tiers.items():
        parent = attributes.get("PARENT_REF")
        if parent is not None and parent not in eaf.tiers:
            raise ctx.fail(
                f"<TIER TIER_ID={tier_id!r}>", f"PARENT_REF names unknown tier {parent!r}"
            )
    spans: list[_Span] = []
    for tier_id, (aligned, references, attributes, _) in eaf.tiers.items():
        found = mapping.rule_for(tier_id)
        if found is None:
            continue
        rule, suffix = found
        signer = _tier_signer(ctx, mapping, attributes, suffix)
        for annotation_id, (_, value, _, _) in references.items():
            start, end = _times(ctx, eaf, tier_id, annotation_id, 0)
            spans.append(_Span(tier_id, annotation_id, rule, signer, start, end, value, None))
        for annotation_id, (_, _, value, _) in aligned.items():
            start, end = _times(ctx, eaf, tier_id, annotation_id, 0)
            link = links.get(annotation_id)
            spans.append(_Span(tier_id, annotation_id, rule, signer, start, end, value, link))
    spans.sort(key=lambda s: (s.start, s.end, s.tier_id, s.annotation_id))
    return spans


def _times(
    ctx: FileContext, eaf: Eaf, tier_id: str, annotation_id: str, depth: int
) -> tuple[int, int]:
    """Start and end in ms of an annotation, following symbolic references to an aligned one."""
    where = f"<TIER TIER_ID={tier_id!r}>/<ANNOTATION ID={annotation_id!r}>"
    aligned, references, _, _ = eaf.tiers[tier_id]
    if annotation_id in references:
        target = references[annotation_id][0]
        target_tier = eaf.annotations.get(target)
        if target_tier is None:
            raise ctx.fail(where, f"ANNOTATION_REF names unknown annotation {target!r}")
        if depth >= _MAX_REFERENCE_DEPTH:
            raise ctx.fail(where, "ANNOTATION_REF chain loops")
        return _times(ctx, eaf, target_tier, target, depth + 1)
    slot1, slot2, _, _ = aligned[annotation_id]
    times = []
    for slot in (slot1, slot2):
        if slot not in eaf.timeslots:
            raise ctx.fail(where, f"names time slot {slot!r}, which TIME_ORDER does not list")
        if eaf.timeslots[slot] is None:
            raise ctx.fail(
                where,
                f"time slot {slot!r} has no TIME_VALUE",
                "open the file in ELAN and save it so every boundary is time-aligned",
            )
        times.append(eaf.timeslots[slot])
    start, end = times
    if end < start:
        raise ctx.fail(where, f"ends at {end} ms, before its start at {start} ms")
    return start, end


def _media_files(eaf: Eaf, rows: RawRows) -> list[int]:
    """One media row per MEDIA_DESCRIPTOR; the legacy path is the video's file name."""
    media_ids = []
    for media_id, descriptor in enumerate(eaf.media_descriptors, start=1):
        url = descriptor.get("MEDIA_URL") or descriptor.get("RELATIVE_MEDIA_URL") or ""
        rows.add(
            "signstream_media_files",
            media_id=media_id,
            legacy_path=PurePosixPath(url.replace("\\", "/")).name,
        )
        media_ids.append(media_id)
    return media_ids


def _stored_end(mapping: TierMapping, start: int, end: int) -> int:
    """The end as SignStream stores E: an exclusive end's last whole ms is end - 1."""
    if mapping.end_time == "exclusive":
        return max(start, end - 1)
    return end


def _utterances(mapping: TierMapping, spans: list[_Span]) -> list[_Utterance]:
    utterances: list[_Utterance] = []
    for span in spans:
        if span.rule.tier == mapping.utterance_tier:
            utterances.append(
                _Utterance(
                    utterance_id=len(utterances) + 1,
                    signer=span.signer,
                    start=span.start,
                    end=_stored_end(mapping, span.start, span.end),
                    key=(span.tier_id, span.annotation_id),
                    link=span.link,
                )
            )
    return utterances


def _utterance_of(span: _Span, end: int, utterances: list[_Utterance]) -> _Utterance | None:
    """The signer's utterance containing the span's start (of two that share that instant,
    the one that also holds its end), else the one it overlaps most, else none."""
    own = [u for u in utterances if u.signer == span.signer]
    containing = [u for u in own if u.start <= span.start <= u.end]
    if containing:
        whole = [u for u in containing if end <= u.end]
        return (whole or containing)[0]
    overlaps = [(min(end, u.end) - max(span.start, u.start), u) for u in own]
    best = max(overlaps, key=lambda o: o[0], default=None)
    return best[1] if best is not None and best[0] >= 0 else None


def _fields_and_annotations(
    mapping: TierMapping,
    spans: list[_Span],
    utterances: list[_Utterance],
    signers: list[str],
    rows: RawRows,
) -> None:
    """A field per mapped tier and an annotation per span that lies in an utterance."""
    ids = SchemeIds(
        rows,
        {name: TRANSITION_IDS_BY_NAME[key.upper()] for key, name in mapping.transitions.items()},
    )
    utterance_by_key = {u.key: u for u in utterances}
    # An annotation whose EXT_REF is an utterance annotation's belongs to it, wherever its
    # times fall (what `cli.py export --elan` writes, since utterances may overlap in time).
    utterance_by_link: dict[tuple[str, str], _Utterance] = {
        (u.signer, u.link): u for u in utterances if u.link is not None
    }
    for span in spans:
        rule = span.rule
        if rule.is_utterance_only:
            continue
        fid = ids.field(
            rule.field_name, label=rule.tier, feature_kind=rule.kind, language=rule.language
        )
        end = _stored_end(mapping, span.start, span.end)
        utterance = (
            utterance_by_key.get((span.tier_id, span.annotation_id))
            or utterance_by_link.get((span.signer, span.link or ""))
            or _utterance_of(span, end, utterances)
        )
        if utterance is None:
            continue
        text = span.value.strip()
        # A transition (a gloss tier's HOLD too, as SignStream codes it) is a value, not text.
        is_value = not rule.is_text or text in ids.transitions
        rows.annotation(
            (utterance.utterance_id, signers.index(span.signer)),
            fid,
            (span.start - utterance.start, end - utterance.start),
            value_id=ids.value(fid, text or PRESENT) if is_value else None,
            text=None if is_value else text or None,
        )
