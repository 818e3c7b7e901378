"""The SignStream parser on the sample corpus and on bad input: one clear error, nothing kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import signstream
from signaffect.core.settings import SAMPLE_CORPUS_DIR
from tests.parse_checks import assert_names_file_and_element, refused_xml, write

GOOD = """<SIGNSTREAM-DATABASE DATABASE-VERSION="1.0" SIGNSTREAM-VERSION="2" SOURCE="">
<PARTICIPANTS>
<PARTICIPANT AGE="30" GENDER="female" ID="0" LABEL="Ana" LANGUAGE="ASL" NAME="Ana Test"/>
</PARTICIPANTS>
<CODING-SCHEME>
<FIELD ID="10000" NAME="main gloss"/>
<FIELD ID="3" NAME="eye brows">
<VALUE ID="2" NAME="raised"/>
<VALUE ID="400001" NAME="ONSET"/>
</FIELD>
</CODING-SCHEME>
<MEDIA-FILES><MEDIA-FILE ID="1" LEGACY-PATH="X:master:1_master_small.mov"/></MEDIA-FILES>
<UTTERANCES>
<UTTERANCE E="2000" ID="5" S="1000">
<MEDIA-REF ID="1"/>
<SEGMENT PARTICIPANT-ID="0" PRIMARY="true">
<TRACK FID="10000"><A E="500" S="0">HAPPY</A></TRACK>
<TRACK FID="3"><A E="100" S="0" VID="400001"/><A E="900" S="133" VID="2"/></TRACK>
</SEGMENT>
</UTTERANCE>
</UTTERANCES>
</SIGNSTREAM-DATABASE>
"""


SEGMENT = '<SEGMENT PARTICIPANT-ID="0" PRIMARY="true"><TRACK FID="10000"/></SEGMENT>'
SECOND_SIGNER = '<PARTICIPANT ID="1" NAME="Ben Test"/>'
SECOND_SEGMENT = SEGMENT.replace('PARTICIPANT-ID="0"', 'PARTICIPANT-ID="1"')


def test_parses_every_element_of_a_minimal_file(tmp_path: Path) -> None:
    tables = signstream.parse(write(tmp_path, GOOD, "story.xml"))
    counts = {name: t.num_rows for name, t in tables.items()}
    assert counts == {
        "signstream_files": 1,
        "signstream_participants": 1,
        "signstream_fields": 2,
        "signstream_values": 2,
        "signstream_media_files": 1,
        "signstream_utterances": 1,
        "signstream_utterance_media": 1,
        "signstream_segments": 1,
        "signstream_annotations": 3,
    }
    annotations = tables["signstream_annotations"].to_pylist()
    assert [a["text"] for a in annotations] == ["HAPPY", None, None]
    assert [a["value_id"] for a in annotations] == [None, 400001, 2]
    assert {a["source_file"] for a in annotations} == {"story.xml"}
    assert len({a["content_hash"] for a in annotations}) == 1


def test_sample_corpus_parses() -> None:
    files = signstream.expand_paths([SAMPLE_CORPUS_DIR])
    assert len(files) >= 3
    for path in files:
        tables = signstream.parse(path)
        assert tables["signstream_utterances"].num_rows > 0
        assert tables["signstream_annotations"].num_rows > 0


@pytest.mark.parametrize(
    ("text", "element", "problem"),
    [
        ("<SIGNSTREAM-DATABASE><PARTICIPANTS>", "line", "malformed XML"),
        *refused_xml(GOOD, "SIGNSTREAM-DATABASE"),
        (
            GOOD.replace('<FIELD ID="3"', '<FIELD ID="10000"'),
            "<FIELD ID='10000'>",
            "duplicate field ID",
        ),
        (
            GOOD.replace('<VALUE ID="400001"', '<VALUE ID="2"'),
            "<VALUE ID='2'>",
            "duplicate value ID",
        ),
        (
            GOOD.replace("</PARTICIPANTS>", '<PARTICIPANT ID="0" NAME="B"/></PARTICIPANTS>'),
            "<PARTICIPANT ID='0'>",
            "duplicate participant ID",
        ),
        (
            GOOD.replace("</UTTERANCES>", '<UTTERANCE E="9" ID="5" S="1"/></UTTERANCES>'),
            "<UTTERANCE ID='5'>",
            "duplicate utterance ID",
        ),
        (GOOD.replace('<TRACK FID="3">', '<TRACK FID="77">'), "<TRACK FID='77'>", "field 77"),
        (GOOD.replace('S="133" VID="2"', 'S="133" VID="9"'), "<A #2 S='133'>", "VID=9"),
        (GOOD.replace('E="900" S="133"', 'E="100" S="133"'), "<A #2 S='133'>", "E=100 is before"),
        (GOOD.replace('E="2000" ID="5"', 'E="900" ID="5"'), "<UTTERANCE ID='5'>", "before S"),
        (GOOD.replace('E="500" S="0">', 'S="0">'), "<A #1 S='0'>", "missing required attribute E"),
        (GOOD.replace(' NAME="eye brows"', ""), "<FIELD ID='3'>", "missing required attribute"),
        (GOOD.replace('E="500"', 'E="five"'), "<A #1", "not an integer"),
        (GOOD.replace('PARTICIPANT-ID="0"', 'PARTICIPANT-ID="4"'), "<SEGMENT", "participant 4"),
        (GOOD.replace('<MEDIA-REF ID="1"/>', '<MEDIA-REF ID="2"/>'), "<MEDIA-REF ID='2'>", "media"),
        (
            GOOD.replace("</UTTERANCE>", f"{SEGMENT}</UTTERANCE>"),
            "<SEGMENT PARTICIPANT-ID='0'>",
            "duplicate SEGMENT of this participant",
        ),
        (
            GOOD.replace("</PARTICIPANTS>", f"{SECOND_SIGNER}</PARTICIPANTS>").replace(
                "</UTTERANCE>", f"{SECOND_SEGMENT}</UTTERANCE>"
            ),
            "<SEGMENT PARTICIPANT-ID='1'>",
            "second primary SEGMENT",
        ),
    ],
)
def test_bad_input_names_file_and_element(
    tmp_path: Path, text: str, element: str, problem: str
) -> None:
    path = write(tmp_path, text, "bad.xml")
    assert_names_file_and_element(signstream.parse, path, element, problem)


def test_empty_track_of_an_undefined_field_is_accepted(tmp_path: Path) -> None:
    """NCSLGR's ncslgr10e.xml has empty tracks naming an undefined field: nothing to lose."""
    text = GOOD.replace("</SEGMENT>", '<TRACK FID="35"/></SEGMENT>')
    assert (
        signstream.parse(write(tmp_path, text, "story.xml"))["signstream_annotations"].num_rows == 3
    )
