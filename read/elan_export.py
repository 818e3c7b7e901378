"""Each story as an ELAN 3.0 file (`<story>.eaf`) with the tier mapping that reads it back
(`<story>.tiers.toml`), written with pympi-ling.

`export_elan(db, out_dir, stories)` reads the marts (`read.elan_tiers`), builds
every file in memory, checks each against the EAF 3.0 structure (`eaf_checks`), and only
then writes them together (`signaffect.core.atomic.atomic_files`: temporary names, renamed
when all are written), so a failure leaves no half-written file.

pympi-ling builds the document. Three things it does not do by itself are set on its
objects: the 3.0 version and schema location (it writes 2.8), a linguistic type's
CONTROLLED_VOCABULARY_REF (through its attribute dict), and time slots numbered in time
order (it numbers them in order of creation). One it cannot express is added to its XML
tree: the EXT_REF attribute of an annotation, by which every source annotation names its
utterance (an EXTERNAL_REF `u<utterance id>`, shared with the utterance tier's annotation),
because utterances may overlap in time (NCSLGR's elicitation sets put each utterance in its
own clip, all starting near 0 ms) and times alone cannot say which utterance an annotation
is of. Its writer renames an existing file to `.bak`, so the tree is serialised here.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb
from pympi.Elan import Eaf, to_adocument

from read.eaf_checks import problems
from read.elan_tiers import DERIVED_ANNOTATOR, StoryReader, StoryTiers, Tier
from signaffect.core.atomic import atomic_files
from signaffect.core.errors import NOT_BUILT_HINT, SignAffectError
from signaffect.core.warehouse import connect_marts, table_exists

#: The marts the export reads (declared in models/exposures.yml as `elan_export`).
MARTS = (
    "dim_source_files", "dim_utterances", "dim_signers", "dim_media_files",
    "fct_annotation_spans", "fct_sign_tokens", "fct_sign_token_features",
    "fct_frame_features", "fct_frame_grammar", "fct_label_feature_rankings",
)
#: The ELAN language of the vocabularies and the English translations.
LANGUAGE = ("eng", "http://cdb.iso.org/lg/CDB-00138502-001", "English (eng)")
SOURCE_TYPE = "source annotation"
MIME_TYPES = {
    ".mov": "video/quicktime", ".qt": "video/quicktime", ".mp4": "video/mp4",
    ".m4v": "video/mp4", ".mpg": "video/mpeg", ".mpeg": "video/mpeg",
    ".avi": "video/x-msvideo", ".webm": "video/webm", ".wav": "audio/x-wav",
}
#: The MIME type ELAN gives a video it does not know.
GENERIC_VIDEO = "video/*"
TRANSITIONS = {"onset": "ONSET", "offset": "OFFSET", "hold": "HOLD"}


@dataclass(frozen=True)
class ExportedStory:
    story: str
    eaf: Path
    mapping: Path
    source_tiers: int
    derived_tiers: int
    annotations: int


def export_elan(
    db: Path,
    out_dir: Path,
    stories: list[str] | None = None,
    media_dir: Path | None = None,
    on_story: Callable[[str], None] | None = None,
) -> list[ExportedStory]:
    """Write `<story>.eaf` and `<story>.tiers.toml` into `out_dir` for each story (default:
    all); media files are linked from `media_dir` (default: beside the .eaf files)."""
    out_dir = out_dir.expanduser().absolute()
    media_dir = (media_dir or out_dir).expanduser().absolute()
    con = connect_marts(db, refuse_stale=True)
    try:
        missing = [t for t in MARTS if not table_exists(con, "main", t)]
        if missing:
            raise SignAffectError(f"{db} is not built (no {', '.join(missing)})", NOT_BUILT_HINT)
        files = _chosen_files(con, stories)
        documents = []
        for source_file in files:
            tiers = StoryReader(con, source_file).read()
            documents.append((tiers, eaf_bytes(tiers, out_dir, media_dir)))
            if on_story is not None:
                on_story(tiers.story)
    finally:
        con.close()
    written = []
    with atomic_files(out_dir) as staged:
        for tiers, data in documents:
            eaf = staged.write_bytes(f"{tiers.story}.eaf", data)
            mapping = staged.write_text(f"{tiers.story}.tiers.toml", tier_mapping(tiers))
            written.append(ExportedStory(
                tiers.story, eaf, mapping, len(tiers.source), len(tiers.derived),
                sum(len(t.spans) for t in (*tiers.source, *tiers.derived)),
            ))
    return written


def _chosen_files(con: duckdb.DuckDBPyConnection, stories: list[str] | None) -> list[str]:
    """The source files of `stories` (names like `storm` or `storm.xml`), all when None."""
    loaded = dict(con.execute(
        "select source_file, story from main.dim_source_files order by story"
    ).fetchall())
    if stories is None:
        return list(loaded)
    by_name = {**{story: f for f, story in loaded.items()}, **{f: f for f in loaded}}
    unknown = [s for s in stories if s not in by_name]
    if unknown:
        known = ", ".join(sorted(loaded.values())[:8])
        raise SignAffectError(
            f"no story {unknown[0]!r} in the warehouse",
            f"name stories as `cli.py status` lists them (e.g. {known}); nothing was written",
        )
    return list(dict.fromkeys(by_name[s] for s in stories))


def eaf_bytes(tiers: StoryTiers, out_dir: Path, media_dir: Path) -> bytes:
    """The story's EAF 3.0 bytes, checked against the schema's structure."""
    eaf = Eaf(author="SignAffect")
    eaf.adocument.update({
        "VERSION": "3.0", "FORMAT": "3.0",
        "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd",
    })
    eaf.header = {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"}
    eaf.remove_tier("default")
    eaf.remove_linguistic_type("default-lt")
    eaf.add_language(*LANGUAGE)
    _link_media(eaf, tiers, out_dir, media_dir)
    eaf.add_linguistic_type(SOURCE_TYPE)
    for vocabulary in tiers.vocabularies:
        eaf.add_controlled_vocabulary(vocabulary.cv_id)
        eaf.add_cv_description(vocabulary.cv_id, LANGUAGE[0], vocabulary.description)
        for number, value in enumerate(vocabulary.values, start=1):
            eaf.add_cv_entry(vocabulary.cv_id, f"cveid_{vocabulary.cv_id}_{number}",
                             [(value, LANGUAGE[0], None)])
        eaf.add_linguistic_type(vocabulary.cv_id, param_dict={
            "LINGUISTIC_TYPE_ID": vocabulary.cv_id, "TIME_ALIGNABLE": "true",
            "GRAPHIC_REFERENCES": "false", "CONTROLLED_VOCABULARY_REF": vocabulary.cv_id,
        })
    links: dict[str, str] = {}
    for tier in tiers.source:
        links |= _add_tier(eaf, tier, SOURCE_TYPE, None)
    for link in sorted(set(links.values()), key=lambda u: int(u[1:])):
        eaf.add_external_ref(link, "resource_url", f"signaffect:utterance/{link[1:]}")
    for tier in tiers.derived:
        _add_tier(eaf, tier, tier.vocabulary or SOURCE_TYPE, DERIVED_ANNOTATOR)
    _number_time_slots_in_order(eaf)
    eaf.properties = [("lastUsedAnnotationId", eaf.maxaid), ("SignAffect story", tiers.story),
                      ("SignAffect frames per second", f"{tiers.fps:g}")]
    document = to_adocument(eaf)
    for annotation in document.iterfind("TIER/ANNOTATION/ALIGNABLE_ANNOTATION"):
        utterance = links.get(annotation.get("ANNOTATION_ID", ""))
        if utterance is not None:
            annotation.set("EXT_REF", utterance)
    data = ET.tostring(document, encoding="UTF-8", xml_declaration=True)
    found = problems(data)
    if found:
        raise SignAffectError(
            f"the ELAN file of story {tiers.story!r} breaks the EAF 3.0 structure: {found[0]}",
            "this is a bug in the exporter; please report it with the story",
        )
    return data


def _add_tier(
    eaf: Eaf, tier: Tier, linguistic_type: str, annotator: str | None
) -> dict[str, str]:
    """Add the tier and its annotations; return each annotation's utterance link."""
    language = LANGUAGE[0] if tier.language == "en" else None
    eaf.add_tier(tier.tier_id, ling=linguistic_type, part=tier.participant, ann=annotator,
                 language=language)
    links = {}
    for span in tier.spans:
        eaf.add_annotation(tier.tier_id, span.start_ms, span.end_ms, span.value)
        links[f"a{eaf.maxaid}"] = f"u{span.utterance_id}"
    return links


def _link_media(eaf: Eaf, tiers: StoryTiers, out_dir: Path, media_dir: Path) -> None:
    """Each media file, by a path relative to the .eaf (ELAN's RELATIVE_MEDIA_URL) and the
    absolute file URL it resolves to."""
    for media in tiers.media:
        target = media_dir / media.file_name
        relative = PurePosixPath(Path(os.path.relpath(target, out_dir)).as_posix())
        eaf.add_linked_file(
            target.as_uri(),
            relpath=relative.as_posix() if relative.as_posix().startswith(".")
            else f"./{relative.as_posix()}",
            mimetype=MIME_TYPES.get(PurePosixPath(media.file_name).suffix.lower(),
                                    GENERIC_VIDEO),
        )


def _number_time_slots_in_order(eaf: Eaf) -> None:
    """Rename the time slots ts1, ts2, ... in time order (pympi numbers them as created)."""
    order = sorted(eaf.timeslots, key=lambda ts: (eaf.timeslots[ts], int(ts[2:])))
    renamed = {old: f"ts{i}" for i, old in enumerate(order, start=1)}
    eaf.timeslots = {renamed[old]: eaf.timeslots[old] for old in order}
    for aligned, *_ in eaf.tiers.values():
        for aid, (start, end, value, svg) in aligned.items():
            aligned[aid] = (renamed[start], renamed[end], value, svg)
    eaf.maxts = len(order)


def tier_mapping(tiers: StoryTiers) -> str:
    """The tier mapping (ingest/tier_mapping.py's TOML) that reads the story's .eaf back:
    its source tiers only, ends exclusive, at the story's frame rate."""
    rules: dict[str, Tier] = {}
    for tier in tiers.source:
        rules.setdefault(tier.rule or tier.tier_id, tier)
    utterance = next((r for r, t in rules.items() if t.role == "utterance"), "utterance")
    lines = [
        f"# Written by `cli.py export --elan` for story {_toml(tiers.story)}: how",
        "# `cli.py ingest` reads the .eaf beside it back (derived tiers are not read).",
        'name = "signaffect-elan-export"',
        f"frames_per_second = {tiers.fps!r}",
        'end_time = "exclusive"',
        f"utterance_tier = {_toml(utterance)}",
        "",
        "[transitions]",
        *(f"{key} = {_toml(value)}" for key, value in TRANSITIONS.items()),
    ]
    if not any(t.role == "main gloss" for t in rules.values()):
        rules["main gloss"] = Tier("main gloss", None, role="main gloss")
    for rule, tier in rules.items():
        lines += ["", "[[tier]]", f"tier = {_toml(rule)}", f"role = {_toml(tier.role or '')}"]
        if tier.role in ("field", "translation"):
            lines.append(f"field = {_toml(tier.field_name or '')}")
        for key in ("kind", "language"):
            if getattr(tier, key) is not None:
                lines.append(f"{key} = {_toml(getattr(tier, key))}")
    return "\n".join(lines) + "\n"


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, but for DEL)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")
