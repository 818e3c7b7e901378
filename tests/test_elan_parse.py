"""The ELAN parser and tier mappings on the real samples and on bad input: one clear error each."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import elan, tier_mapping
from signaffect.core.errors import InputFileError
from signaffect.core.settings import elan_samples_dir
from tests.parse_checks import assert_names_file_and_element, refused_xml, write

ALI = "ASL_ncslgr_ali_SignBLEU.eaf"
DGS = "DGS_1418836-15524810-15550340.eaf"

# Two signers by tier suffix, a symbolic child gloss tier, an empty coded value, an ONSET.
GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00+00:00" FORMAT="3.0" VERSION="3.0"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">
<HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">
<MEDIA_DESCRIPTOR MEDIA_URL="file:///videos/story_A.mp4" MIME_TYPE="video/mp4"/>
</HEADER>
<TIME_ORDER>
<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="0"/><TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="1000"/>
<TIME_SLOT TIME_SLOT_ID="ts3" TIME_VALUE="200"/><TIME_SLOT TIME_SLOT_ID="ts4" TIME_VALUE="600"/>
<TIME_SLOT TIME_SLOT_ID="ts5" TIME_VALUE="1000"/><TIME_SLOT TIME_SLOT_ID="ts6" TIME_VALUE="2000"/>
</TIME_ORDER>
<TIER TIER_ID="Translation_A" LINGUISTIC_TYPE_REF="text">
<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2">
<ANNOTATION_VALUE>I am happy.</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
</TIER>
<TIER TIER_ID="Translation_B" LINGUISTIC_TYPE_REF="text">
<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a2" TIME_SLOT_REF1="ts5" TIME_SLOT_REF2="ts6">
<ANNOTATION_VALUE>So am I.</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
</TIER>
<TIER TIER_ID="Gloss_A" LINGUISTIC_TYPE_REF="text">
<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a3" TIME_SLOT_REF1="ts3" TIME_SLOT_REF2="ts4">
<ANNOTATION_VALUE>GLÜCKLICH</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
</TIER>
<TIER TIER_ID="Gloss_en_A" LINGUISTIC_TYPE_REF="sym" PARENT_REF="Gloss_A">
<ANNOTATION><REF_ANNOTATION ANNOTATION_ID="a4" ANNOTATION_REF="a3">
<ANNOTATION_VALUE>HAPPY</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>
</TIER>
<TIER TIER_ID="Brows_B" LINGUISTIC_TYPE_REF="text">
<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a5" TIME_SLOT_REF1="ts5" TIME_SLOT_REF2="ts6">
<ANNOTATION_VALUE></ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a6" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts3">
<ANNOTATION_VALUE>ONSET</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
</TIER>
<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="text" TIME_ALIGNABLE="true"/>
<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="sym" TIME_ALIGNABLE="false"
 CONSTRAINTS="Symbolic_Association"/>
</ANNOTATION_DOCUMENT>
"""

MAPPING = {
    "name": "test",
    "frames_per_second": 25,
    "end_time": "exclusive",
    "utterance_tier": "Translation_{signer}",
    "transitions": {"onset": "ONSET"},
    "tier": [
        {"tier": "Translation_{signer}", "role": "translation", "language": "en"},
        {"tier": "Gloss_en_{signer}", "role": "main gloss", "language": "en"},
        {"tier": "Brows_{signer}", "role": "field", "field": "eye brows", "kind": "facial"},
    ],
}


def mapping(**changes: object) -> tier_mapping.TierMapping:
    return tier_mapping.from_dict({**MAPPING, **changes}, "test.toml")


def test_signers_symbolic_children_empty_values_and_transitions(tmp_path: Path) -> None:
    tables = elan.parse(write(tmp_path, GOOD, "story.eaf"), mapping())
    assert tables["signstream_files"].to_pylist()[0]["frames_per_second"] == 25.0
    assert [p["name"] for p in tables["signstream_participants"].to_pylist()] == ["A", "B"]
    utterances = tables["signstream_utterances"].to_pylist()
    assert [(u["start_ms"], u["end_ms"]) for u in utterances] == [(0, 999), (1000, 1999)]
    assert tables["signstream_media_files"].to_pylist()[0]["legacy_path"] == "story_A.mp4"
    fields = {f["field_id"]: f["name"] for f in tables["signstream_fields"].to_pylist()}
    values = {v["value_id"]: v["name"] for v in tables["signstream_values"].to_pylist()}
    rows = [
        (fields[a["field_id"]], a["utterance_id"], a["start_ms"], a["end_ms"],
         a["text"] or values[a["value_id"]])
        for a in tables["signstream_annotations"].to_pylist()
    ]  # fmt: skip
    # The gloss takes its parent's times (exclusive end - 1 ms); B's ONSET at 0..200 ms lies
    # outside B's only utterance and is not loaded; the empty brow value marks presence.
    assert sorted(rows) == [
        ("English translation", 1, 0, 999, "I am happy."),
        ("English translation", 2, 0, 999, "So am I."),
        ("eye brows", 2, 0, 999, "present"),
        ("main gloss", 1, 200, 599, "HAPPY"),
    ]


def test_transition_values_get_signstream_ids(tmp_path: Path) -> None:
    text = GOOD.replace('"a6" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts3"', '"a6" '
                        'TIME_SLOT_REF1="ts5" TIME_SLOT_REF2="ts6"')  # fmt: skip
    tables = elan.parse(write(tmp_path, text, "story.eaf"), mapping())
    values = {v["value_id"]: v["name"] for v in tables["signstream_values"].to_pylist()}
    assert values[400001] == "ONSET"
    assert sorted(values.values()) == ["ONSET", "present"]


def test_real_ncslgr_conversion_is_detected_and_complete() -> None:
    tables = elan.parse(elan_samples_dir() / ALI)
    assert tables["signstream_files"].to_pylist()[0]["format"] == "elan"
    assert tables["signstream_utterances"].num_rows == 37
    assert tables["signstream_annotations"].num_rows == 2643  # every annotation of the file
    assert tables["signstream_media_files"].num_rows == 3


def test_real_dgs_transcript_at_50_fps() -> None:
    tables = elan.parse(elan_samples_dir() / DGS)
    assert tables["signstream_files"].to_pylist()[0]["frames_per_second"] == 50.0
    assert [p["name"] for p in tables["signstream_participants"].to_pylist()] == ["ber-38"]
    assert tables["signstream_utterances"].num_rows == 33
    fields = {f["name"]: f for f in tables["signstream_fields"].to_pylist()}
    assert {"main gloss", "non-dominant hand gloss", "mouthing", "English translation"} <= set(
        fields
    )
    assert fields["translation (de)"]["language"] == "de"
    by_field: dict[str, int] = {}
    for a in tables["signstream_annotations"].to_pylist():
        by_field[a["field_id"]] = by_field.get(a["field_id"], 0) + 1
    assert by_field[fields["main gloss"]["field_id"]] == 171
    assert by_field[fields["mouthing"]["field_id"]] == 132


def test_a_file_matching_no_preset_lists_its_tiers(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        elan.parse(write(tmp_path, GOOD, "story.eaf"))
    assert "Translation_A" in caught.value.problem
    assert "template.toml" in caught.value.problem


def test_presets_and_template_are_valid() -> None:
    for name in tier_mapping.PRESETS:
        assert tier_mapping.preset(name).name == name
    assert tier_mapping.load(tier_mapping.TEMPLATE).frames_per_second == 25


@pytest.mark.parametrize(
    ("changes", "key", "problem"),
    [
        ({"frames_per_second": 0}, "frames_per_second", "number"),
        ({"frames_per_second": "30"}, "frames_per_second", "number"),
        ({"end_time": "inclusive"}, "end_time", "must be one of"),
        ({"utterance_tier": "Nope"}, "utterance_tier", "not one of"),
        ({"colour": "red"}, "colour", "unknown key"),
        ({"transitions": {"start": "S"}}, "transitions", "keys among"),
        ({"tier": []}, "tier", "at least one"),
        ({"tier": [{"tier": "T", "role": "gloss"}]}, "tier #1.role", "must be one of"),
        ({"tier": [{"tier": "T", "role": "translation"}]}, "tier #1.language", "missing"),
        ({"tier": [{"tier": "T", "role": "field", "kind": "mouth"}]}, "tier #1.kind", "one of"),
        ({"tier": [{"role": "field"}]}, "tier #1.tier", "missing"),
    ],
)
def test_bad_mapping_names_the_key(changes: dict[str, object], key: str, problem: str) -> None:
    with pytest.raises(InputFileError) as caught:
        mapping(**changes)
    assert caught.value.path == "test.toml"
    assert caught.value.element == key
    assert problem in caught.value.problem


def test_mapping_file_that_is_not_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "name = [", "bad.toml")
    with pytest.raises(InputFileError, match="not valid TOML"):
        tier_mapping.load(path)


@pytest.mark.parametrize(
    ("text", "element", "problem"),
    [
        *refused_xml(GOOD, "ANNOTATION_DOCUMENT", other_root="SIGNSTREAM-DATABASE"),
        (
            GOOD.replace('PARENT_REF="Gloss_A"', 'PARENT_REF="Gloss_Z"'),
            "<TIER TIER_ID='Gloss_en_A'>",
            "unknown tier 'Gloss_Z'",
        ),
        (
            GOOD.replace('ANNOTATION_REF="a3"', 'ANNOTATION_REF="a99"'),
            "<ANNOTATION ID='a4'>",
            "unknown annotation 'a99'",
        ),
        (
            GOOD.replace('<TIME_SLOT TIME_SLOT_ID="ts4" TIME_VALUE="600"/>', ""),
            "<ANNOTATION ID='a3'>",
            "TIME_ORDER does not list",
        ),
        (
            GOOD.replace('TIME_SLOT_ID="ts4" TIME_VALUE="600"', 'TIME_SLOT_ID="ts4"'),
            "<ANNOTATION ID='a3'>",
            "no TIME_VALUE",
        ),
        (
            GOOD.replace(
                'TIME_SLOT_ID="ts4" TIME_VALUE="600"', 'TIME_SLOT_ID="ts4" TIME_VALUE="100"'
            ),
            "<ANNOTATION ID='a3'>",
            "before its start",
        ),
        (GOOD.replace(' ANNOTATION_ID="a1"', ""), "document", "ANNOTATION_ID"),
        (GOOD.replace('TIME_VALUE="600"', 'TIME_VALUE="six"'), "document", "pympi"),
    ],
)
def test_bad_input_names_file_and_element(
    tmp_path: Path, text: str, element: str, problem: str
) -> None:
    path = write(tmp_path, text, "bad.eaf")
    assert_names_file_and_element(lambda p: elan.parse(p, mapping()), path, element, problem)
