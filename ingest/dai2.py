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

from ingest.frame_rates import DEFAULT_FPS, MAX_FPS, MIN_FPS
from ingest.signstream import (
    TRANSITION_IDS_BY_NAME,
    FileContext,
    RawRows,
    SchemeIds,
    open_xml,
)
from signaffect.core.errors import InputFileError

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

    def __init__(self, ctx: FileContext, fps: float, rows: RawRows) -> None:
        self.ctx = ctx
        self.fps = fps
        self.rows = rows
        self.ids = SchemeIds(rows, TRANSITION_IDS_BY_NAME)
        self.participants: dict[str, int] = {}
        self.utterance_ids: set[int] = set()
        self.media_ids: set[int] = set()
        self.spans = 0
        self.degenerate = 0

    def frames(self, el: ET.Element, where: str) -> tuple[int, int]:
        start = self.ctx.int_attr(el, "START_FRAME", where)
        end = self.ctx.int_attr(el, "END_FRAME", where)
        if end < start:
            raise self.ctx.fail(where, f"END_FRAME={end} is before START_FRAME={start}")
        return start, end

    def annotate(
        self,
        utterance: tuple[int, int, int],
        field_name: str,
        span: tuple[int, int],
        value: str | None = None,
        text: str | None = None,
    ) -> None:
        utterance_id, participant_id, first_frame = utterance
        language = "en" if field_name in _TEXT_FIELDS else None
        fid = self.ids.field(field_name, _TEXT_FIELDS.get(field_name), language=language)
        self.rows.annotation(
            (utterance_id, participant_id),
            fid,
            (
                frames_to_ms(span[0] - first_frame, self.fps),
                frames_to_ms(span[1] - first_frame, self.fps),
            ),
            value_id=None if value is None else self.ids.value(fid, value),
            text=text,
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
            self.rows.add("signstream_media_files", media_id=mid, legacy_path=name)
        media = [int(i) for m in cel.iterfind("MEDIA-FILES/MEDIA-FILE") if (i := m.get("ID"))]
        for tel in cel.iterfind(
            "TEMPORAL-PARTITIONS/TEMPORAL-PARTITION/SEGMENT-TIERS/SEGMENT-TIER"
        ):
            twhere = f"{where}/<SEGMENT-TIER ID={tel.get('ID')!r}>"
            signer = (
                unquote(tel.findtext("PARTICIPANT")) or f"unknown signer of {self.ctx.path.name}"
            )
            if signer not in self.participants:
                self.participants[signer] = pid = len(self.participants)
                self.rows.participant(pid, signer, label=signer)
            for uel in tel.iterfind("UTTERANCES/UTTERANCE"):
                self.utterance(uel, twhere, self.participants[signer], media)

    def utterance(self, uel: ET.Element, tier_where: str, pid: int, media: list[int]) -> None:
        where = f"{tier_where}/<UTTERANCE ID={uel.get('ID')!r}>"
        uid = self.ctx.int_attr(uel, "ID", where)
        if uid in self.utterance_ids:
            raise self.ctx.fail(where, "duplicate utterance ID")
        self.utterance_ids.add(uid)
        first, last = self.frames(uel, where)
        start_ms = frames_to_ms(first, self.fps)
        end_ms = start_ms + frames_to_ms(last - first, self.fps)
        excerpt = unquote(uel.findtext("UTTERANCE-NUMBER"))
        self.rows.utterance(uid, (start_ms, end_ms), excerpt, media)
        self.rows.segment(uid, pid)
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
            self.non_manual(nel, where, utterance)

    def non_manual(self, nel: ET.Element, where: str, utterance: tuple[int, int, int]) -> None:
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
    if not MIN_FPS <= fps <= MAX_FPS:
        raise InputFileError(
            str(Path(path)),
            "--fps",
            f"the frame rate must be {MIN_FPS:g} to {MAX_FPS:g}, not {fps}",
        )
    ctx, data, root = open_xml(path, "SIGNSTREAM_DAI", "DAI 2 XML")
    parser = _Parser(ctx, fps, RawRows(ctx.path, data, "dai2", fps))
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
