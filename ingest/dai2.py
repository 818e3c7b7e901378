"""Parse one ASLLRP DAI 2 XML export (root `SIGNSTREAM_DAI`) into the raw contract.

DAI 2 counts video frames where SignStream 2 counts ms, wraps every text value in single
quotes, and codes a non-manual as LABEL + VALUE with optional ONSET / OFFSET spans. Frames
become ms relative to the utterance, rounded up (ceil(f·1000/fps)) so that `ms_to_frame`
gives back exactly frame f under either frame convention; the frame rate is not in the file
(`--fps`). The collection is the file's story (a file is one story in the warehouse, so an
export of several collections is refused), segment tiers become signers, each
sign's dominant and non-dominant hand spans become `main gloss` / `non-dominant hand gloss`
annotations and each utterance's TRANSLATION an `English translation` annotation. An export
whose spans are mostly one frame long has lost its timing and is refused.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pyarrow as pa

from ingest.signstream import (
    TRANSITION_IDS_BY_NAME,
    FileContext,
    RawRows,
    parse_xml,
    read_bytes,
)
from signaffect.core.hashing import sha256_bytes

DEFAULT_FPS = 30.0
# Refuse an export when more than this share of its sign and non-manual spans is degenerate.
DEGENERATE_SHARE = 0.5
# Field ids of the text fields, as NCSLGR numbers them; coded fields count from 1.
_TEXT_FIELDS = {"main gloss": 10000, "non-dominant hand gloss": 10001, "English translation": 20001}
_HANDS = {"DOMINANT_HAND": "main gloss", "NON_DOMINANT_HAND": "non-dominant hand gloss"}


def unquote(text: str | None) -> str | None:
    """The value without DAI 2's wrapping single quotes; None when empty."""
    value = (text or "").strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        value = value[1:-1].strip()
    return value or None


def frames_to_ms(frames: int, fps: float) -> int:
    """The whole ms that `ms_to_frame` maps back to `frames` (the frame start, rounded up)."""
    return math.ceil(Fraction(frames * 1000) / Fraction(fps))


class _Parser:
    """Walks one export, filling raw rows; every error names the file and the element."""

    def __init__(self, ctx: FileContext, fps: float, base: dict[str, str]) -> None:
        self.ctx = ctx
        self.fps = fps
        self.base = base
        self.rows = RawRows()
        self.participants: dict[str, int] = {}
        self.field_ids: dict[str, int] = {}
        self.value_ids: dict[tuple[int, str], int] = {}
        self.utterance_ids: set[int] = set()
        self.media_ids: set[int] = set()
        self.annotation_id = 0
        self.spans = 0
        self.degenerate = 0

    def frames(self, el: ET.Element, where: str) -> tuple[int, int]:
        start = self.ctx.int_attr(el, "START_FRAME", where)
        end = self.ctx.int_attr(el, "END_FRAME", where)
        if end < start:
            raise self.ctx.fail(where, f"END_FRAME={end} is before START_FRAME={start}")
        return start, end

    def field(self, name: str) -> int:
        if name not in self.field_ids:
            fid = _TEXT_FIELDS.get(name, len(self.field_ids) + 1)
            self.field_ids[name] = fid
            self.rows.add(
                "signstream_fields",
                **self.base,
                field_id=fid,
                name=name,
                label=None,
                field_constraint=None,
                feature_kind=None,
                language="en" if name in _TEXT_FIELDS else None,
            )
        return self.field_ids[name]

    def value(self, fid: int, name: str) -> int:
        key = (fid, name)
        if key not in self.value_ids:
            self.value_ids[key] = vid = TRANSITION_IDS_BY_NAME.get(name, len(self.value_ids) + 1)
            self.rows.add(
                "signstream_values", **self.base, field_id=fid, value_id=vid, name=name, label=None
            )
        return self.value_ids[key]

    def annotate(
        self,
        utterance: tuple[int, int, int],
        field_name: str,
        span: tuple[int, int],
        value: str | None = None,
        text: str | None = None,
    ) -> None:
        utterance_id, participant_id, first_frame = utterance
        fid = self.field(field_name)
        self.annotation_id += 1
        self.rows.add(
            "signstream_annotations",
            **self.base,
            annotation_id=self.annotation_id,
            utterance_id=utterance_id,
            participant_id=participant_id,
            field_id=fid,
            start_ms=frames_to_ms(span[0] - first_frame, self.fps),
            end_ms=frames_to_ms(span[1] - first_frame, self.fps),
            value_id=None if value is None else self.value(fid, value),
            text=text,
            frames_per_second=self.fps,
        )

    def collection(self, cel: ET.Element) -> None:
        where = f"<COLLECTION ID={cel.get('ID')!r}>"
        for mel in cel.iterfind("MEDIA-FILES/MEDIA-FILE"):
            mwhere = f"{where}/<MEDIA-FILE ID={mel.get('ID')!r}>"
            mid = self.ctx.int_attr(mel, "ID", mwhere)
            if mid in self.media_ids:
                raise self.ctx.fail(mwhere, "duplicate media file ID")
            self.media_ids.add(mid)
            name = self.ctx.attr(mel, "FILE-NAME", mwhere)
            self.rows.add("signstream_media_files", **self.base, media_id=mid, legacy_path=name)
        media = [m.get("ID") for m in cel.iterfind("MEDIA-FILES/MEDIA-FILE")]
        for tel in cel.iterfind(
            "TEMPORAL-PARTITIONS/TEMPORAL-PARTITION/SEGMENT-TIERS/SEGMENT-TIER"
        ):
            twhere = f"{where}/<SEGMENT-TIER ID={tel.get('ID')!r}>"
            signer = (
                unquote(tel.findtext("PARTICIPANT")) or f"unknown signer of {self.ctx.path.name}"
            )
            if signer not in self.participants:
                self.participants[signer] = pid = len(self.participants)
                self.rows.add(
                    "signstream_participants",
                    **self.base,
                    participant_id=pid,
                    label=signer,
                    name=signer,
                    age=None,
                    gender=None,
                    language=None,
                )
            for uel in tel.iterfind("UTTERANCES/UTTERANCE"):
                self.utterance(uel, twhere, self.participants[signer], [int(m) for m in media if m])

    def utterance(self, uel: ET.Element, tier_where: str, pid: int, media: list[int]) -> None:
        where = f"{tier_where}/<UTTERANCE ID={uel.get('ID')!r}>"
        uid = self.ctx.int_attr(uel, "ID", where)
        if uid in self.utterance_ids:
            raise self.ctx.fail(where, "duplicate utterance ID")
        self.utterance_ids.add(uid)
        first, last = self.frames(uel, where)
        start_ms = frames_to_ms(first, self.fps)
        self.rows.add(
            "signstream_utterances",
            **self.base,
            utterance_id=uid,
            start_ms=start_ms,
            end_ms=start_ms + frames_to_ms(last - first, self.fps),
            excerpt=unquote(uel.findtext("UTTERANCE-NUMBER")),
            frames_per_second=self.fps,
        )
        for ordinal, mid in enumerate(media):
            self.rows.add(
                "signstream_utterance_media",
                **self.base,
                utterance_id=uid,
                media_ordinal=ordinal,
                media_id=mid,
            )
        self.rows.add(
            "signstream_segments",
            **self.base,
            utterance_id=uid,
            participant_id=pid,
            is_primary=True,
        )
        utterance = (uid, pid, first)
        translation = unquote(uel.findtext("TRANSLATION"))
        if translation:
            self.annotate(utterance, "English translation", (first, last), text=translation)
        for sel in uel.iterfind("MANUALS/SIGN"):
            swhere = f"{where}/<SIGN ID={sel.get('ID')!r}>"
            label = unquote(sel.findtext("LABEL"))
            for hand, field_name in _HANDS.items():
                hel = sel.find(hand)
                if hel is not None:
                    span = self.counted(self.frames(hel, f"{swhere}/<{hand}>"))
                    self.annotate(utterance, field_name, span, text=label)
        for nel in uel.iterfind("NON_MANUALS/NON_MANUAL"):
            nwhere = f"{where}/<NON_MANUAL ID={nel.get('ID')!r}>"
            label, value = unquote(nel.findtext("LABEL")), unquote(nel.findtext("VALUE"))
            if label is None or value is None:
                raise self.ctx.fail(nwhere, "needs a non-empty LABEL and VALUE")
            span = self.counted(self.frames(nel, nwhere))
            self.annotate(utterance, label, span, value=value)
            for transition in ("ONSET", "OFFSET"):
                tel = nel.find(transition)
                if tel is not None:
                    tspan = self.frames(tel, f"{nwhere}/<{transition}>")
                    self.annotate(utterance, label, tspan, value=transition)

    def counted(self, span: tuple[int, int]) -> tuple[int, int]:
        self.spans += 1
        self.degenerate += span[0] == span[1]
        return span


def parse(path: str | Path, fps: float = DEFAULT_FPS) -> dict[str, pa.Table]:
    """Parse one DAI 2 export at `fps` frames per second into the raw tables."""
    path = Path(path)
    ctx = FileContext(path)
    if not fps > 0:
        raise ctx.fail("--fps", f"the frame rate must be positive, not {fps}")
    data = read_bytes(ctx)
    root = parse_xml(ctx, data, "SIGNSTREAM_DAI", "DAI 2 XML")
    base = {"source_file": path.name, "content_hash": sha256_bytes(data)}
    parser = _Parser(ctx, fps, base)
    parser.rows.add(
        "signstream_files",
        **base,
        source_path=str(path.resolve()),
        n_bytes=len(data),
        database_version=None,
        signstream_version=None,
        format="dai2",
        frames_per_second=fps,
    )
    collections = root.findall("COLLECTIONS/COLLECTION")
    if len(collections) != 1:
        raise ctx.fail(
            "<COLLECTIONS>",
            f"the export has {len(collections)} COLLECTION elements; a file is one story here",
            "export each collection to its own file",
        )
    parser.collection(collections[0])
    if not parser.utterance_ids:
        raise ctx.fail("<UTTERANCES>", "the export has no UTTERANCE")
    if parser.spans and parser.degenerate > DEGENERATE_SHARE * parser.spans:
        raise ctx.fail(
            "<SIGN>/<NON_MANUAL>",
            f"{parser.degenerate} of {parser.spans} sign and non-manual spans have START_FRAME ="
            " END_FRAME: the export's timing is degenerate",
            "public DAI 2 downloads have come out this way; export the collection again",
        )
    return parser.rows.to_arrow()
