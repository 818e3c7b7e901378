"""Parse one SignStream 2 XML file (the NCSLGR format) into Arrow tables for schema `raw`.

The parser is strict on structure and lenient on nothing: every problem raises
`InputFileError` naming the file and the element, so a bad file never half-loads.
Names are kept as the file spells them, except field names: `normalize_field_name` is the
one rule that reconciles their spellings, for every format.

`SCHEMAS` is the raw contract every format's parser fills (`ingest/elan.py`,
`ingest/dai2.py`): times in ms, an annotation's E the start of its last frame, and each
file's own frame rate on its files, utterances and annotations rows (so staging converts
ms to frames without a join). `RawRows`, `SchemeIds`, `FileContext` and `open_xml` are
shared with them.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from signaffect.core.errors import InputFileError
from signaffect.core.hashing import sha256_bytes

# The value ids SignStream gives its transitions, which the other formats reuse.
TRANSITION_IDS_BY_NAME = {"HOLD": 400000, "ONSET": 400001, "OFFSET": 400002}
# NCSLGR video is 30 fps; SignStream 2 XML does not state it.
FRAMES_PER_SECOND = 30.0
# What raw's integer columns hold: a larger id or time overflows them.
_INT64_RANGE = range(-(2**63), 2**63)

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
            ("name_as_spelled", _STR),
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

# NCSLGR's other spellings of one field, after whitespace is made single spaces.
_FIELD_NAME_VARIANTS = {
    "head pos:jut": "head pos: jut",
    "POS2": "Non-dominant POS",
    "non-dominant POS": "Non-dominant POS",
    "nondominant POS": "Non-dominant POS",
}


def normalize_field_name(name: str) -> str:
    """The one spelling of a field NAME, which raw stores and every later step matches on.

    NCSLGR files spell some fields differently: with carriage returns and spaces
    ("head mvmt: nod\\r"), "head pos:jut" for "head pos: jut", and "POS2" /
    "non-dominant POS" / "nondominant POS" for "Non-dominant POS". Whitespace runs become
    one space, the ends are stripped, and everything else is kept as the scheme spells it.
    """
    spaced = " ".join(name.split())
    return _FIELD_NAME_VARIANTS.get(spaced, spaced)


# What `RawRows.annotation` is given, in order.
_ANNOTATION_VALUES = (
    "utterance_id",
    "participant_id",
    "field_id",
    "start_ms",
    "end_ms",
    "value_id",
    "text",
)


class RawRows:
    """Column lists per raw table of one file, filled while walking it. It starts with the
    file's row; every row carries the file's name and content hash (and, where the table has
    it, the file's frame rate), and every field name goes through `normalize_field_name`."""

    def __init__(
        self,
        path: Path,
        data: bytes,
        file_format: str,
        fps: float,
        *,
        database_version: str | None = None,
        signstream_version: str | None = None,
    ) -> None:
        self.base: dict[str, object] = {
            "source_file": path.name,
            "content_hash": sha256_bytes(data),
            "frames_per_second": fps,
        }
        self.columns: dict[str, dict[str, list[object]]] = {
            name: {col: [] for col in schema.names} for name, schema in SCHEMAS.items()
        }
        # Annotations are most rows: kept as tuples in `_ANNOTATION_VALUES` order and made
        # columns once, in `to_arrow`.
        self.annotations: list[tuple[object, ...]] = []
        self.add(
            "signstream_files",
            source_path=str(path.resolve()),
            n_bytes=len(data),
            database_version=database_version,
            signstream_version=signstream_version,
            format=file_format,
        )

    def add(self, table: str, **values: object) -> None:
        row = {**self.base, **values}
        for col, column in self.columns[table].items():
            column.append(row[col])

    def participant(self, participant_id: int, name: str, **details: str | None) -> None:
        """A signer; `details` are its label, age, gender and language where the file says."""
        self.add(
            "signstream_participants",
            participant_id=participant_id,
            name=name,
            **{key: details.get(key) for key in ("label", "age", "gender", "language")},
        )

    def field(self, field_id: int, name: str, **details: str | None) -> None:
        """A coding-scheme field, its name normalised; `details` are its label, constraint,
        feature kind and language where the input says."""
        self.add(
            "signstream_fields",
            field_id=field_id,
            name=normalize_field_name(name),
            name_as_spelled=name,
            **{
                key: details.get(key)
                for key in ("label", "field_constraint", "feature_kind", "language")
            },
        )

    def value(self, field_id: int, value_id: int, name: str, label: str | None = None) -> None:
        self.add("signstream_values", field_id=field_id, value_id=value_id, name=name, label=label)

    def utterance(
        self, utterance_id: int, span: tuple[int, int], excerpt: str | None, media: list[int]
    ) -> None:
        """An utterance (start and end in ms) and its media references, in order."""
        self.add(
            "signstream_utterances",
            utterance_id=utterance_id,
            start_ms=span[0],
            end_ms=span[1],
            excerpt=excerpt,
        )
        for ordinal, media_id in enumerate(media):
            self.add(
                "signstream_utterance_media",
                utterance_id=utterance_id,
                media_ordinal=ordinal,
                media_id=media_id,
            )

    def segment(self, utterance_id: int, participant_id: int, is_primary: bool = True) -> None:
        self.add(
            "signstream_segments",
            utterance_id=utterance_id,
            participant_id=participant_id,
            is_primary=is_primary,
        )

    def annotation(
        self,
        signer: tuple[int, int],
        field_id: int,
        span: tuple[int, int],
        value_id: int | None = None,
        text: str | None = None,
    ) -> None:
        """An annotation of `signer` (utterance id, participant id), span in ms relative to
        the utterance, numbered in the order added (document order)."""
        self.annotations.append((*signer, field_id, *span, value_id, text))

    def to_arrow(self) -> dict[str, pa.Table]:
        n = len(self.annotations)
        values = zip(*self.annotations, strict=True) if n else ([] for _ in _ANNOTATION_VALUES)
        annotations = dict(zip(_ANNOTATION_VALUES, map(list, values), strict=True))
        annotations["annotation_id"] = list(range(1, n + 1))
        for name in ("source_file", "content_hash", "frames_per_second"):
            annotations[name] = [self.base[name]] * n
        columns = {**self.columns, "signstream_annotations": annotations}
        return {name: pa.table(columns[name], schema=schema) for name, schema in SCHEMAS.items()}


class SchemeIds:
    """Field and value ids of a format without a coding scheme (ELAN, DAI 2): a name gets the
    id it is given or the next free one, and its row the first time it is seen."""

    def __init__(self, rows: RawRows, transitions: dict[str, int]) -> None:
        self.rows = rows
        self.transitions = transitions  # value name -> SignStream's id for that transition
        self.field_ids: dict[str, int] = {}
        self.value_ids: dict[tuple[int, str], int] = {}

    def field(self, name: str, field_id: int | None = None, **details: str | None) -> int:
        if name not in self.field_ids:
            fid = len(self.field_ids) + 1 if field_id is None else field_id
            self.field_ids[name] = fid
            self.rows.field(fid, name, **details)
        return self.field_ids[name]

    def value(self, field_id: int, name: str) -> int:
        key = (field_id, name)
        if key not in self.value_ids:
            self.value_ids[key] = vid = self.transitions.get(name, len(self.value_ids) + 1)
            self.rows.value(field_id, vid, name)
        return self.value_ids[key]


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
            value = int(raw)
        except ValueError:
            raise self.fail(where, f"attribute {name}={raw!r} is not an integer") from None
        if value not in _INT64_RANGE:
            raise self.fail(where, f"attribute {name}={raw} is out of range (a 64-bit integer)")
        return value


def open_xml(path: str | Path, root_tag: str, what: str) -> tuple[FileContext, bytes, ET.Element]:
    """The file's error context, bytes and checked root element (see `parse_xml`)."""
    ctx = FileContext(Path(path))
    try:
        data = ctx.path.read_bytes()
    except OSError as exc:
        raise ctx.fail("file", f"cannot read ({exc.strerror})") from None
    return ctx, data, parse_xml(ctx, data, root_tag, what)


#: Declared encodings in which a document type declaration can only be the ASCII bytes
#: `<!DOCTYPE` (an XML declaration without `encoding` means UTF-8).
_ASCII_COMPATIBLE = (b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin-1")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""", re.I)


def _without_dtd(data: bytes) -> bool:
    """Whether `data` provably declares no DTD (so no entities): ASCII-compatible bytes that
    never contain `<!DOCTYPE`. Such a file may go to the C parser, ~2x faster than
    defusedxml's pure-Python one; any other file goes through defusedxml's checks."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:256]:
        return False  # UTF-16 or UTF-32
    declared = _DECLARED_ENCODING.match(data)
    if declared and declared.group(1).lower() not in _ASCII_COMPATIBLE:
        return False
    return b"<!DOCTYPE" not in data


def parse_xml(ctx: FileContext, data: bytes, root_tag: str, what: str) -> ET.Element:
    """Parse untrusted XML with no DTD and no entities (refused by defusedxml) and check
    the root element."""
    if not data.strip():
        raise ctx.fail("document", "file is empty")
    try:
        if _without_dtd(data):
            root = ET.fromstring(data)
        else:
            root = SafeET.fromstring(
                data, forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
    except DefusedXmlException as exc:
        raise ctx.fail(
            "<!DOCTYPE>",
            f"refused: the file declares a DTD or entities ({type(exc).__name__})",
            f"{what} files have no DTD; this file may be crafted to expand entities",
        ) from None
    except (LookupError, ValueError) as exc:  # an encoding Python lacks, or a multi-byte one
        raise ctx.fail(
            "<?xml encoding?>",
            f"cannot decode the file ({exc})",
            "save it as UTF-8 and declare encoding=\"UTF-8\" (or none)",
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


def _numbered(
    ctx: FileContext,
    elements: Iterable[ET.Element],
    what: str,
    attr: str = "ID",
    within: str = "",
) -> Iterator[tuple[ET.Element, str, int]]:
    """Each element, where it is (for errors, below `within`) and its integer `attr`, which
    must not repeat among `elements`."""
    seen: set[int] = set()
    for el in elements:
        where = f"{within}<{el.tag} {attr}={el.get(attr)!r}>"
        key = ctx.int_attr(el, attr, where)
        if key in seen:
            raise ctx.fail(where, f"duplicate {what}")
        seen.add(key)
        yield el, where, key


# Where each element the parser reads must sit: it looks for them only there, so one placed
# elsewhere (an UTTERANCE beside <UTTERANCES>, an A outside a TRACK) would be lost unread.
_PARENT_OF = {
    "PARTICIPANTS": "SIGNSTREAM-DATABASE",
    "CODING-SCHEME": "SIGNSTREAM-DATABASE",
    "MEDIA-FILES": "SIGNSTREAM-DATABASE",
    "UTTERANCES": "SIGNSTREAM-DATABASE",
    "PARTICIPANT": "PARTICIPANTS",
    "FIELD": "CODING-SCHEME",
    "VALUE": "FIELD",
    "MEDIA-FILE": "MEDIA-FILES",
    "UTTERANCE": "UTTERANCES",
    "MEDIA-REF": "UTTERANCE",
    "SEGMENT": "UTTERANCE",
    "TRACK": "SEGMENT",
    "A": "TRACK",
}


def _check_placement(ctx: FileContext, root: ET.Element) -> None:
    """Refuse an element the parser reads that sits where it would not be read."""
    for parent in root.iter():
        for child in parent:
            expected = _PARENT_OF.get(child.tag)
            if expected is not None and parent.tag != expected:
                ident = "".join(f" {k}={child.get(k)!r}" for k in ("ID", "S") if child.get(k))
                raise ctx.fail(
                    f"<{parent.tag}>/<{child.tag}{ident}>",
                    f"<{child.tag}> outside <{expected}> would be ignored",
                    f"move it into <{expected}> (as SignStream writes it) or remove it",
                )


@dataclass(frozen=True)
class _Header:
    """What the file declares before its utterances, which they must refer to."""

    participants: set[int]
    values_by_field: dict[int, set[int]]
    media_ids: set[int]


def parse(path: str | Path) -> dict[str, pa.Table]:
    """Parse one SignStream XML file into one Arrow table per raw table (see `SCHEMAS`)."""
    ctx, data, root = open_xml(path, "SIGNSTREAM-DATABASE", "SignStream XML")
    _check_placement(ctx, root)
    rows = RawRows(
        ctx.path,
        data,
        "signstream",
        FRAMES_PER_SECOND,
        database_version=root.get("DATABASE-VERSION"),
        signstream_version=root.get("SIGNSTREAM-VERSION"),
    )
    header = _Header(
        _parse_participants(ctx, root, rows),
        _parse_coding_scheme(ctx, root, rows),
        _parse_media_files(ctx, root, rows),
    )
    for uel, where, uid in _numbered(ctx, root.iterfind("UTTERANCES/UTTERANCE"), "utterance ID"):
        span = _span(ctx, uel, where)
        media = [_media_ref(ctx, mel, where, header) for mel in uel.iterfind("MEDIA-REF")]
        rows.utterance(uid, span, uel.get("EXCERPT"), media)
        _parse_segments(ctx, uel, where, uid, rows, header)
    return rows.to_arrow()


def _parse_participants(ctx: FileContext, root: ET.Element, rows: RawRows) -> set[int]:
    ids = set()
    for el, where, pid in _numbered(
        ctx, root.iterfind("PARTICIPANTS/PARTICIPANT"), "participant ID"
    ):
        name = ctx.attr(el, "NAME", where)
        details = {key: el.get(key.upper()) for key in ("label", "age", "gender", "language")}
        rows.participant(pid, name, **details)
        ids.add(pid)
    return ids


def _parse_coding_scheme(ctx: FileContext, root: ET.Element, rows: RawRows) -> dict[int, set[int]]:
    values_by_field: dict[int, set[int]] = {}
    for fel, where, fid in _numbered(ctx, root.iterfind("CODING-SCHEME/FIELD"), "field ID"):
        name = ctx.attr(fel, "NAME", where)
        rows.field(fid, name, label=fel.get("LABEL"), field_constraint=fel.get("CONSTRAINT"))
        values = values_by_field[fid] = set()
        for vel, vwhere, vid in _numbered(
            ctx, fel.iterfind("VALUE"), "value ID in this field", within=f"{where}/"
        ):
            rows.value(fid, vid, ctx.attr(vel, "NAME", vwhere), vel.get("LABEL"))
            values.add(vid)
    return values_by_field


def _parse_media_files(ctx: FileContext, root: ET.Element, rows: RawRows) -> set[int]:
    ids = set()
    for el, where, mid in _numbered(ctx, root.iterfind("MEDIA-FILES/MEDIA-FILE"), "media file ID"):
        rows.add(
            "signstream_media_files", media_id=mid, legacy_path=ctx.attr(el, "LEGACY-PATH", where)
        )
        ids.add(mid)
    return ids


def _span(ctx: FileContext, el: ET.Element, where: str) -> tuple[int, int]:
    start = ctx.int_attr(el, "S", where)
    end = ctx.int_attr(el, "E", where)
    if end < start:
        raise ctx.fail(where, f"E={end} is before S={start}")
    return start, end


def _media_ref(ctx: FileContext, mel: ET.Element, where: str, header: _Header) -> int:
    mwhere = f"{where}/<MEDIA-REF ID={mel.get('ID')!r}>"
    mid = ctx.int_attr(mel, "ID", mwhere)
    if mid not in header.media_ids:
        raise ctx.fail(mwhere, f"names media file {mid}, which MEDIA-FILES does not list")
    return mid


def _parse_segments(
    ctx: FileContext, uel: ET.Element, where: str, uid: int, rows: RawRows, header: _Header
) -> None:
    # A second segment of one participant, or a second primary signer, would make the
    # utterance's signer (and its frames' annotations) ambiguous.
    has_primary = False
    for sel, swhere, pid in _numbered(
        ctx,
        uel.iterfind("SEGMENT"),
        "SEGMENT of this participant in the utterance",
        attr="PARTICIPANT-ID",
        within=f"{where}/",
    ):
        if pid not in header.participants:
            raise ctx.fail(swhere, f"names participant {pid}, which PARTICIPANTS does not list")
        is_primary = sel.get("PRIMARY", "true").lower() == "true"
        if is_primary and has_primary:
            raise ctx.fail(swhere, "second primary SEGMENT in the utterance")
        has_primary = has_primary or is_primary
        rows.segment(uid, pid, is_primary)
        for tel in sel.iterfind("TRACK"):
            _parse_track(ctx, tel, swhere, (uid, pid), rows, header.values_by_field)


def _parse_track(
    ctx: FileContext,
    tel: ET.Element,
    swhere: str,
    signer: tuple[int, int],
    rows: RawRows,
    values_by_field: dict[int, set[int]],
) -> None:
    twhere = f"{swhere}/<TRACK FID={tel.get('FID')!r}>"
    fid = ctx.int_attr(tel, "FID", twhere)
    annotations = tel.findall("A")
    # ncslgr10e.xml has empty tracks of an undefined field: nothing to lose.
    if annotations and fid not in values_by_field:
        raise ctx.fail(twhere, f"names field {fid}, which CODING-SCHEME does not define")
    known = values_by_field.get(fid, set())
    for position, ael in enumerate(annotations, start=1):
        span, vid = _plain_annotation(ael, known)
        if span is None:  # something is wrong: find it the slow way, which names it
            awhere = f"{twhere}/<A #{position} S={ael.get('S')!r}>"
            span = _span(ctx, ael, awhere)
            vid = _value_id(ctx, ael, awhere, fid, known)
        rows.annotation(signer, fid, span, vid, (ael.text or "").strip() or None)


def _plain_annotation(
    ael: ET.Element, known: set[int]
) -> tuple[tuple[int, int] | None, int | None]:
    """The span and value id of a well-formed `<A>` (64-bit integers, E >= S, a known VID), or
    (None, None): the fast path for the ~100,000 annotations of a corpus."""
    try:
        start, end = int(ael.get("S")), int(ael.get("E"))  # type: ignore[arg-type]
        raw_vid = ael.get("VID")
        vid = None if raw_vid is None else int(raw_vid)
    except (TypeError, ValueError):
        return None, None
    if end < start or start not in _INT64_RANGE or end not in _INT64_RANGE:
        return None, None
    if vid is not None and vid not in known:
        return None, None
    return (start, end), vid


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
    """Files as given and every *.xml and *.eaf inside given folders and their sub-folders
    (read recursively, so no part of a corpus is skipped unsaid), sorted, each once."""
    found: dict[Path, None] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for child in _corpus_files_under(p):
                found[_resolved(child)] = None
        elif p.exists():
            found[_resolved(p)] = None
        else:
            raise InputFileError(
                str(p), "path", "no such file or folder", "check the path, or pass a folder"
            )
    return list(found)


def _corpus_files_under(folder: Path) -> list[Path]:
    """The corpus files in `folder` and below, sorted; a linked folder is not entered (a
    link may loop), a linked file is read."""
    found: list[Path] = []
    for parent, _, names in os.walk(folder):
        found.extend(Path(parent) / n for n in names if Path(n).suffix.lower() in CORPUS_SUFFIXES)
    return sorted(found)


def _resolved(path: Path) -> Path:
    """The real path of `path`; a symbolic link that loops is bad input, not a crash."""
    try:
        return path.resolve(strict=True)
    except (RuntimeError, OSError) as exc:
        problem = getattr(exc, "strerror", None) or "symbolic link loop"
        raise InputFileError(
            str(path), "path", f"cannot resolve ({problem})", "remove or fix the link"
        ) from None
