"""The DAI 2 parser on the real export and on bad input: counts match the file, errors are clear."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ingest import dai2, formats
from signaffect.core.settings import elan_samples_dir
from tests.parse_checks import assert_names_file_and_element, refused_xml, write

BEN = "ASL_DAI2_1-Ben-Introduction.xml"

GOOD = """<?xml version='1.0' encoding='utf-8'?>
<SIGNSTREAM_DAI AUTHOR='BOSTON UNIVERSITY'>
<COLLECTIONS><COLLECTION ID='7' NAME='story'>
<MEDIA-FILES><MEDIA-FILE ID='70' FILE-NAME='story.mov'/></MEDIA-FILES>
<TEMPORAL-PARTITIONS><TEMPORAL-PARTITION ID='1'><SEGMENT-TIERS><SEGMENT-TIER ID='1'>
<PARTICIPANT>'Ann Test'</PARTICIPANT>
<UTTERANCES>
<UTTERANCE ID='5' START_FRAME='100' END_FRAME='160'>
<TRANSLATION>'Ann's happy.'</TRANSLATION>
<MANUALS><SIGN ID='1'><LABEL>'HAPPY'</LABEL>
<DOMINANT_HAND START_FRAME='101' END_FRAME='110'/></SIGN></MANUALS>
<NON_MANUALS><NON_MANUAL ID='2' START_FRAME='104' END_FRAME='120'>
<LABEL>'eye brows'</LABEL><VALUE>'raised'</VALUE>
<ONSET START_FRAME='101' END_FRAME='103'/></NON_MANUAL></NON_MANUALS>
</UTTERANCE>
</UTTERANCES></SEGMENT-TIER></SEGMENT-TIERS></TEMPORAL-PARTITION></TEMPORAL-PARTITIONS>
</COLLECTION></COLLECTIONS>
</SIGNSTREAM_DAI>
"""


def test_minimal_export(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, "story.xml")
    assert formats.format_of(path) == "dai2"
    tables = dai2.parse(path, fps=30)
    (utterance,) = tables["signstream_utterances"].to_pylist()
    assert (utterance["start_ms"], utterance["end_ms"]) == (3334, 3334 + 2000)
    assert tables["signstream_participants"].to_pylist()[0]["name"] == "Ann Test"
    fields = {f["field_id"]: f["name"] for f in tables["signstream_fields"].to_pylist()}
    values = {
        (v["field_id"], v["value_id"]): v["name"] for v in tables["signstream_values"].to_pylist()
    }
    rows = [
        (fields[a["field_id"]], a["start_ms"], a["end_ms"],
         a["text"] or values[(a["field_id"], a["value_id"])])
        for a in tables["signstream_annotations"].to_pylist()
    ]  # fmt: skip
    assert rows == [
        ("English translation", 0, 2000, "Ann's happy."),  # quotes stripped, inner one kept
        ("main gloss", 34, 334, "HAPPY"),  # frames 1..10 of the utterance: ceil(f·1000/30)
        ("eye brows", 134, 667, "raised"),
        ("eye brows", 34, 100, "ONSET"),
    ]


def test_frames_to_ms_round_trips_under_both_conventions() -> None:
    for fps in (25.0, 29.97, 30.0, 50.0, 60.0):
        for frame in range(0, 5000, 7):
            ms = dai2.frames_to_ms(frame, fps)
            assert int(ms * fps // 1000) == frame
            assert int((ms * fps + 500) // 1000) == frame


def test_real_export_counts_match_the_file() -> None:
    path = elan_samples_dir() / BEN
    root = ET.parse(path).getroot()
    tables = dai2.parse(path)
    fields = {f["field_id"]: f["name"] for f in tables["signstream_fields"].to_pylist()}
    counts: dict[str, int] = {}
    for a in tables["signstream_annotations"].to_pylist():
        counts[fields[a["field_id"]]] = counts.get(fields[a["field_id"]], 0) + 1
    assert tables["signstream_utterances"].num_rows == len(root.findall(".//UTTERANCE")) == 25
    assert counts["English translation"] == 25
    assert counts["main gloss"] == len(root.findall(".//SIGN/DOMINANT_HAND")) == 252
    assert counts["non-dominant hand gloss"] == len(root.findall(".//SIGN/NON_DOMINANT_HAND"))
    non_manuals = len(root.findall(".//NON_MANUAL"))
    transitions = len(root.findall(".//NON_MANUAL/ONSET")) + len(
        root.findall(".//NON_MANUAL/OFFSET")
    )
    text_fields = {"English translation", "main gloss", "non-dominant hand gloss"}
    coded = sum(n for name, n in counts.items() if name not in text_fields)
    assert (non_manuals, coded) == (338, 338 + transitions)
    assert "eye brows" in fields.values()
    names = [v["name"] for v in tables["signstream_values"].to_pylist()]
    assert not [n for n in names if n.startswith("'") or n.endswith("'")]


def test_fps_setting_changes_times_not_frames(tmp_path: Path) -> None:
    at_60 = dai2.parse(write(tmp_path, GOOD, "story.xml"), fps=60)[
        "signstream_annotations"
    ].to_pylist()
    assert at_60[1]["start_ms"] == 17  # 1 frame at 60 fps


# Every sign and non-manual one frame long, as public DAI 2 downloads have come out.
DEGENERATE = GOOD.replace("END_FRAME='110'", "END_FRAME='101'").replace(
    "END_FRAME='120'", "END_FRAME='104'"
)


@pytest.mark.parametrize(
    ("text", "element", "problem"),
    [
        (DEGENERATE, "<SIGN>/<NON_MANUAL>", "degenerate"),
        *refused_xml(GOOD, "SIGNSTREAM_DAI"),
        (GOOD.replace("END_FRAME='120'", "END_FRAME='90'"), "<NON_MANUAL ID='2'>", "before"),
        (GOOD.replace("START_FRAME='100' ", ""), "<UTTERANCE ID='5'>", "START_FRAME"),
        (GOOD.replace("END_FRAME='110'", "END_FRAME='x'"), "<DOMINANT_HAND>", "not an integer"),
        (GOOD.replace("<VALUE>'raised'</VALUE>", "<VALUE>''</VALUE>"), "<NON_MANUAL", "VALUE"),
        (GOOD.replace("<COLLECTIONS>", "<COLLECTIONS></COLLECTIONS><X>"
                      ).replace("</COLLECTIONS>\n", "</X>\n"), "<COLLECTIONS>", "has 0 COLLECTION"),
        (GOOD.replace("</COLLECTIONS>", "<COLLECTION ID='8'/></COLLECTIONS>"), "<COLLECTIONS>",
         "has 2 COLLECTION"),
        (GOOD.replace("<UTTERANCES>", "<UTTERANCES><UTTERANCE ID='5' START_FRAME='1' "
                      "END_FRAME='2'/>"), "<UTTERANCE ID='5'>", "duplicate"),
    ],
)  # fmt: skip
def test_bad_input_names_file_and_element(
    tmp_path: Path, text: str, element: str, problem: str
) -> None:
    assert_names_file_and_element(dai2.parse, write(tmp_path, text, "bad.xml"), element, problem)
