"""Parse one SignStream 2 XML file (the NCSLGR format) into Arrow tables for schema `raw`.

The parser is strict on structure and lenient on nothing: every problem raises
`InputFileError` naming the file and the element, so a bad file never half-loads.
Names are kept exactly as the file spells them; normalisation happens in dbt.

`SCHEMAS` is the raw contract every format's parser fills (`ingest/elan.py`,
`ingest/dai2.py`): times in ms, an annotation's E the start of its last frame, and each
file's own frame rate on its files, utterances and annotations rows (so staging converts
ms to frames without a join). `RawRows`, `FileContext` and `parse_xml` are shared with them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from signaffect.core.errors import InputFileError
from signaffect.core.hashing import sha256_bytes

# The value ids SignStream gives its transitions, which the other formats reuse.
TRANSITION_IDS_BY_NAME = {"HOLD": 400000, "ONSET": 400001, "OFFSET": 400002}
TRANSITION_VALUE_IDS = frozenset(TRANSITION_IDS_BY_NAME.values())
# NCSLGR video is 30 fps; SignStream 2 XML does not state it.
FRAMES_PER_SECOND = 30.0

# The file types a corpus folder is searched for (SignStream and DAI 2 XML, ELAN).
CORPUS_SUFFIXES = (".xml", ".eaf")

_STR = pa.string()
_INT = pa.int64()
_FPS = pa.float64()

SCHEMAS: dict[str, pa.Schema] = {
    "signstream_files": pa.schema(
        [
            ("source_file", _STR),
            ("content_hash", _STR),
            ("source_path", _STR),
            ("n_bytes", _INT),
            ("database_version", _STR),
            ("signstream_version", _STR),
            ("format", _STR),
            ("frames_per_second", _FPS),
        ]
    ),
    "signstream_participants": pa.schema(
        [
            ("source_file", _STR),
            ("content_hash", _STR),
            ("participant_id", _INT),
            ("label", _STR),
            ("name", _STR),
            ("age", _STR),
            ("gender", _STR),
            ("language", _STR),
        ]
    ),
    "signstream_fields": pa.schema(
        [
            ("source_file", _STR),
            ("content_hash", _STR),
            ("field_id", _INT),
            ("name", _STR),
            ("label", _STR),
            ("field_constraint", _STR),
            ("feature_kind", _STR),
            ("language", _STR),
        ]
    ),
    "signstream_values": pa.schema(
        [
            ("source_file", _STR),
            ("content_hash", _STR),
            ("field_id", _INT),
            ("value_id", _INT),
            ("name", _STR),
            ("label", _STR),
        ]
    ),
    "signstream_media_files": pa.schema(
        [
            ("source_file", _STR),
            ("content_hash", _STR),
            ("media_id", _INT),
            ("legacy_path", _STR),
        ]
    ),
    "signstream_utterances": pa.schema(
        [
            ("source_file", _STR),
            ("content_hash", _STR),
            ("utterance_id", _INT),
            ("start_ms", _INT),
            ("end_ms", _INT),
            ("excerpt", _STR),
            ("frames_per_second", _FPS),
        ]
    ),
    "signstream_utterance_media": pa.schema(
        [
            ("source_file", _STR),
            ("content_hash", _STR),
            ("utterance_id", _INT),
            ("media_ordinal", _INT),
            ("media_id", _INT),
        ]
    ),
    "signstream_segments": pa.schema(
        [
            ("source_file", _STR),
            ("content_hash", _STR),
            ("utterance_id", _INT),
            ("participant_id", _INT),
            ("is_primary", pa.bool_()),
        ]
    ),
    "signstream_annotations": pa.schema(
        [
            ("source_file", _STR),
            ("content_hash", _STR),
            ("annotation_id", _INT),
            ("utterance_id", _INT),
            ("participant_id", _INT),
            ("field_id", _INT),
            ("start_ms", _INT),
            ("end_ms", _INT),
            ("value_id", _INT),
            ("text", _STR),
            ("frames_per_second", _FPS),
        ]
    ),
}


@dataclass
class RawRows:
    """Column lists per raw table, filled while walking the tree."""

    columns: dict[str, dict[str, list[object]]] = field(
        default_factory=lambda: {
            name: {col: [] for col in schema.names} for name, schema in SCHEMAS.items()
        }
    )

    def add(self, table: str, **values: object) -> None:
        for col, column in self.columns[table].items():
            column.append(values[col])

    def to_arrow(self) -> dict[str, pa.Table]:
        return {
            name: pa.table(self.columns[name], schema=schema) for name, schema in SCHEMAS.items()
        }


class FileContext:
    """Error helpers bound to one file, so every message names it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, element: str, problem: str, hint: str | None = None) -> InputFileError:
        return InputFileError(str(self.path), element, problem, hint)

    def attr(self, el: ET.Element, name: str, where: str) -> str:
        value = el.get(name)
        if value is None:
            raise self.fail(where, f"missing required attribute {name}")
        return value

    def int_attr(self, el: ET.Element, name: str, where: str) -> int:
        raw = self.attr(el, name, where)
        try:
            return int(raw)
        except ValueError:
            raise self.fail(where, f"attribute {name}={raw!r} is not an integer") from None


def read_bytes(ctx: FileContext) -> bytes:
    """The file's bytes, or an `InputFileError` naming it."""
    try:
        return ctx.path.read_bytes()
    except OSError as exc:
        raise ctx.fail("file", f"cannot read ({exc.strerror})") from None


def parse_xml(ctx: FileContext, data: bytes, root_tag: str, what: str) -> ET.Element:
    """Parse untrusted XML with defusedxml (no DTD, no entities) and check the root element."""
    if not data.strip():
        raise ctx.fail("document", "file is empty")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ctx.fail(
            "<!DOCTYPE>",
            f"refused: the file declares a DTD or entities ({type(exc).__name__})",
            f"{what} files have no DTD; this file may be crafted to expand entities",
        ) from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise ctx.fail(
            f"line {line}, column {column}",
            f"malformed XML ({exc.msg if hasattr(exc, 'msg') else exc})",
            f"the file may be truncated or not a {what} file",
        ) from None
    if root.tag != root_tag:
        raise ctx.fail(f"<{root.tag}>", f"root element is not <{root_tag}>")
    return root


def _unique(ctx: FileContext, seen: set[object], key: object, where: str, what: str) -> None:
    if key in seen:
        raise ctx.fail(where, f"duplicate {what}")
    seen.add(key)


def parse(path: str | Path) -> dict[str, pa.Table]:
    """Parse one SignStream XML file into one Arrow table per raw table (see `SCHEMAS`)."""
    path = Path(path)
    ctx = FileContext(path)
    data = read_bytes(ctx)
    root = parse_xml(ctx, data, "SIGNSTREAM-DATABASE", "SignStream XML")
    digest = sha256_bytes(data)
    source = path.name
    rows = RawRows()
    base = {"source_file": source, "content_hash": digest}

    rows.add(
        "signstream_files",
        **base,
        source_path=str(path.resolve()),
        n_bytes=len(data),
        database_version=root.get("DATABASE-VERSION"),
        signstream_version=root.get("SIGNSTREAM-VERSION"),
        format="signstream",
        frames_per_second=FRAMES_PER_SECOND,
    )
    participants = _parse_participants(ctx, root, rows, base)
    values_by_field = _parse_coding_scheme(ctx, root, rows, base)
    media_ids = _parse_media_files(ctx, root, rows, base)
    _parse_utterances(ctx, root, rows, base, participants, values_by_field, media_ids)
    return rows.to_arrow()


def _parse_participants(
    ctx: FileContext, root: ET.Element, rows: RawRows, base: dict[str, str]
) -> set[int]:
    seen: set[object] = set()
    for el in root.iterfind("PARTICIPANTS/PARTICIPANT"):
        where = f"<PARTICIPANT ID={el.get('ID')!r}>"
        pid = ctx.int_attr(el, "ID", where)
        _unique(ctx, seen, pid, where, "participant ID")
        rows.add(
            "signstream_participants",
            **base,
            participant_id=pid,
            label=el.get("LABEL"),
            name=ctx.attr(el, "NAME", where),
            age=el.get("AGE"),
            gender=el.get("GENDER"),
            language=el.get("LANGUAGE"),
        )
    return {p for p in seen if isinstance(p, int)}


def _parse_coding_scheme(
    ctx: FileContext, root: ET.Element, rows: RawRows, base: dict[str, str]
) -> dict[int, set[int]]:
    values_by_field: dict[int, set[int]] = {}
    for fel in root.iterfind("CODING-SCHEME/FIELD"):
        where = f"<FIELD ID={fel.get('ID')!r}>"
        fid = ctx.int_attr(fel, "ID", where)
        if fid in values_by_field:
            raise ctx.fail(where, "duplicate field ID")
        rows.add(
            "signstream_fields",
            **base,
            field_id=fid,
            name=ctx.attr(fel, "NAME", where),
            label=fel.get("LABEL"),
            field_constraint=fel.get("CONSTRAINT"),
            feature_kind=None,
            language=None,
        )
        values: set[object] = set()
        for vel in fel.iterfind("VALUE"):
            vwhere = f"{where}/<VALUE ID={vel.get('ID')!r}>"
            vid = ctx.int_attr(vel, "ID", vwhere)
            _unique(ctx, values, vid, vwhere, "value ID in this field")
            rows.add(
                "signstream_values",
                **base,
                field_id=fid,
                value_id=vid,
                name=ctx.attr(vel, "NAME", vwhere),
                label=vel.get("LABEL"),
            )
        values_by_field[fid] = {v for v in values if isinstance(v, int)}
    return values_by_field


def _parse_media_files(
    ctx: FileContext, root: ET.Element, rows: RawRows, base: dict[str, str]
) -> set[int]:
    seen: set[object] = set()
    for el in root.iterfind("MEDIA-FILES/MEDIA-FILE"):
        where = f"<MEDIA-FILE ID={el.get('ID')!r}>"
        mid = ctx.int_attr(el, "ID", where)
        _unique(ctx, seen, mid, where, "media file ID")
        legacy_path = ctx.attr(el, "LEGACY-PATH", where)
        rows.add("signstream_media_files", **base, media_id=mid, legacy_path=legacy_path)
    return {m for m in seen if isinstance(m, int)}


def _span(ctx: FileContext, el: ET.Element, where: str) -> tuple[int, int]:
    start = ctx.int_attr(el, "S", where)
    end = ctx.int_attr(el, "E", where)
    if end < start:
        raise ctx.fail(where, f"E={end} is before S={start}")
    return start, end


def _parse_utterances(
    ctx: FileContext,
    root: ET.Element,
    rows: RawRows,
    base: dict[str, str],
    participants: set[int],
    values_by_field: dict[int, set[int]],
    media_ids: set[int],
) -> None:
    seen: set[object] = set()
    annotation_id = 0
    for uel in root.iterfind("UTTERANCES/UTTERANCE"):
        where = f"<UTTERANCE ID={uel.get('ID')!r}>"
        uid = ctx.int_attr(uel, "ID", where)
        _unique(ctx, seen, uid, where, "utterance ID")
        start, end = _span(ctx, uel, where)
        rows.add(
            "signstream_utterances",
            **base,
            utterance_id=uid,
            start_ms=start,
            end_ms=end,
            excerpt=uel.get("EXCERPT"),
            frames_per_second=FRAMES_PER_SECOND,
        )
        for ordinal, mel in enumerate(uel.iterfind("MEDIA-REF")):
            mwhere = f"{where}/<MEDIA-REF ID={mel.get('ID')!r}>"
            mid = ctx.int_attr(mel, "ID", mwhere)
            if mid not in media_ids:
                raise ctx.fail(mwhere, f"names media file {mid}, which MEDIA-FILES does not list")
            rows.add(
                "signstream_utterance_media",
                **base,
                utterance_id=uid,
                media_ordinal=ordinal,
                media_id=mid,
            )
        signing: set[object] = set()
        has_primary = False
        for sel in uel.iterfind("SEGMENT"):
            swhere = f"{where}/<SEGMENT PARTICIPANT-ID={sel.get('PARTICIPANT-ID')!r}>"
            pid = ctx.int_attr(sel, "PARTICIPANT-ID", swhere)
            if pid not in participants:
                raise ctx.fail(swhere, f"names participant {pid}, which PARTICIPANTS does not list")
            # A second segment of one participant, or a second primary signer, would make
            # the utterance's signer (and its frames' annotations) ambiguous.
            _unique(ctx, signing, pid, swhere, "SEGMENT of this participant in the utterance")
            is_primary = sel.get("PRIMARY", "true").lower() == "true"
            if is_primary and has_primary:
                raise ctx.fail(swhere, "second primary SEGMENT in the utterance")
            has_primary = has_primary or is_primary
            rows.add(
                "signstream_segments",
                **base,
                utterance_id=uid,
                participant_id=pid,
                is_primary=is_primary,
            )
            for tel in sel.iterfind("TRACK"):
                twhere = f"{swhere}/<TRACK FID={tel.get('FID')!r}>"
                fid = ctx.int_attr(tel, "FID", twhere)
                annotations = tel.findall("A")
                # ncslgr10e.xml has empty tracks of an undefined field: nothing to lose.
                if annotations and fid not in values_by_field:
                    raise ctx.fail(
                        twhere, f"names field {fid}, which CODING-SCHEME does not define"
                    )
                for position, ael in enumerate(annotations, start=1):
                    annotation_id += 1
                    awhere = f"{twhere}/<A #{position} S={ael.get('S')!r}>"
                    a_start, a_end = _span(ctx, ael, awhere)
                    vid = _value_id(ctx, ael, awhere, fid, values_by_field[fid])
                    text = (ael.text or "").strip() or None
                    rows.add(
                        "signstream_annotations",
                        **base,
                        annotation_id=annotation_id,
                        utterance_id=uid,
                        participant_id=pid,
                        field_id=fid,
                        start_ms=a_start,
                        end_ms=a_end,
                        value_id=vid,
                        text=text,
                        frames_per_second=FRAMES_PER_SECOND,
                    )


def _value_id(
    ctx: FileContext, ael: ET.Element, where: str, fid: int, known: set[int]
) -> int | None:
    if ael.get("VID") is None:
        return None
    vid = ctx.int_attr(ael, "VID", where)
    if vid not in known:
        raise ctx.fail(where, f"VID={vid} is not a value of field {fid}")
    return vid


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given and every *.xml and *.eaf inside given folders, sorted, each once."""
    found: dict[Path, None] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if child.suffix.lower() in CORPUS_SUFFIXES and not child.is_dir():
                    found[_resolved(child)] = None
        elif p.exists():
            found[_resolved(p)] = None
        else:
            raise InputFileError(
                str(p), "path", "no such file or folder", "check the path, or pass a folder"
            )
    return list(found)


def _resolved(path: Path) -> Path:
    """The real path of `path`; a symbolic link that loops is bad input, not a crash."""
    try:
        return path.resolve(strict=True)
    except (RuntimeError, OSError) as exc:
        problem = getattr(exc, "strerror", None) or "symbolic link loop"
        raise InputFileError(
            str(path), "path", f"cannot resolve ({problem})", "remove or fix the link"
        ) from None
