"""Hostile input and misuse (issue 21, items 1, 2, 4, 6 and 8), as a table of cases beside
tests/test_faults.py: each runs one command on crafted or real input and checks its exit
code, what it prints and the warehouse before and after.

A case names its issue item, the warehouse it starts from (`ingested`: the sample's
storm.xml ingested, never built, as most cases need no marts; `built`: a copy of the sample
warehouse), the command (with
`{tmp}` the crafted inputs' folder, `{storm}` the sample's storm.xml, `{samples}` the real
ELAN / DAI 2 samples), the exit code, a text that must appear (in stderr on failure; stdout
or stderr on success), and what must be unchanged (`all`: the warehouse; `none`).
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from pipeline.corpus import ingest_corpus
from signaffect.core.settings import SAMPLE_CORPUS_DIR, elan_samples_dir
from tests.test_faults import state

STORM = SAMPLE_CORPUS_DIR / "storm.xml"
ELAN_ALI = "ASL_ncslgr_ali_SignBLEU.eaf"
DGS = "DGS_1418836-15524810-15550340.eaf"


@dataclass(frozen=True)
class Case:
    name: str
    item: int
    warehouse: str  # built | ingested
    command: list[str]
    code: int
    message: str
    same: str = "all"  # all | none


CASES = [
    # 1. Every corpus builds: q was one ulp below p in fct_feature_cooccurrence.
    Case("storm.xml alone builds", 1, "ingested", ["build"], 0, "", same="none"),
    # 2. Empty is an error, alone or in a batch, and the warehouse is unchanged.
    Case("utterances without annotations", 2, "ingested", ["ingest", "{tmp}/empty.xml"], 1,
         "empty.xml: document: no annotation in its 10 utterance(s)"),
    Case("only the root element", 2, "ingested", ["ingest", "{tmp}/root-only.xml"], 1,
         "root-only.xml: document: no annotation in its 0 utterance(s)"),
    Case("an empty file beside a good one, --add", 2, "ingested",
         ["ingest", "--add", "{storm}", "{tmp}/empty.xml"], 1, "empty.xml: document"),
    Case("an UTTERANCE outside <UTTERANCES>", 2, "ingested", ["ingest", "{tmp}/outside.xml"], 1,
         "<UTTERANCE> outside <UTTERANCES> would be ignored"),
    # 4. One story, one file.
    Case("storm.xml beside storm.eaf", 4, "ingested", ["ingest", "{storm}", "{tmp}/storm.eaf"], 1,
         "are both story 'storm'"),
    Case("--add another folder's storm.xml", 4, "ingested",
         ["ingest", "--add", "{tmp}/other/storm.xml"], 1, "already loaded from"),
    Case("--add --replace another folder's storm.xml", 4, "ingested",
         ["ingest", "--add", "--replace", "{tmp}/other/storm.xml"], 0, "was replaced by",
         same="none"),
    # 6. Bad arguments stop before work; every error names its file.
    Case("--fps 1e12", 6, "ingested", ["ingest", "--fps", "1e12", "{storm}"], 2, "--fps"),
    Case("train --seed -1", 6, "built", ["train", "--trees", "2", "--seed", "-1"], 2, "--seed"),
    Case("train --seed 10**30", 6, "built", ["train", "--trees", "2", "--seed", str(10**30)], 2,
         "--seed"),
    Case("a mapping with a tier twice", 6, "ingested",
         ["ingest", "--tiers", "{tmp}/twice.toml", "{samples}/" + DGS], 1,
         "is already mapped by tier #"),
    Case("a mapping with a tiny frame rate", 6, "ingested",
         ["ingest", "--tiers", "{tmp}/tiny.toml", "{samples}/" + DGS], 1,
         "tiny.toml: frames_per_second"),
    Case("ELAN annotation id twice", 6, "ingested", ["ingest", "{tmp}/twice.eaf"], 1,
         "twice.eaf: <ALIGNABLE_ANNOTATION ANNOTATION_ID='a1'>: duplicate ANNOTATION_ID"),
    Case("unknown declared encoding", 6, "ingested", ["ingest", "{tmp}/klingon.xml"], 1,
         "klingon.xml: <?xml encoding?>"),
    Case("overflowing time", 6, "ingested", ["ingest", "{tmp}/overflow.xml"], 1,
         "overflow.xml: <UTTERANCE ID='1'>/<SEGMENT PARTICIPANT-ID='1'>/<TRACK FID="),
    Case("a corpus in a sub-folder", 6, "ingested", ["ingest", "{tmp}/nested"], 0,
         "ingested 1 file(s)", same="none"),
    # 8. Output.
    Case("JSON with a repeated column name", 8, "ingested",
         ["query", "select 1 as a, 2 as a", "--format", "json"], 0, '"a_2": 2'),
    Case("CSV with a bare CR", 8, "ingested",
         ["query", "select 'p' || chr(13) || 'q' as s", "--format", "csv"], 0, '"p\rq"'),
    Case("table numbers as CSV", 8, "ingested", ["query", "select 180999.0::double as x"], 0,
         "180999.0"),
]


def storm_root() -> ET.Element:
    return ET.parse(STORM).getroot()


def write_inputs(tmp: Path, samples: Path) -> None:
    """The crafted files the cases name, each made from a real one with one defect."""
    empty = storm_root()
    for segment in empty.iter("SEGMENT"):
        for track in segment.findall("TRACK"):
            segment.remove(track)
    ET.ElementTree(empty).write(tmp / "empty.xml")
    (tmp / "root-only.xml").write_text('<SIGNSTREAM-DATABASE DATABASE-VERSION="1.0"/>')
    outside = storm_root()
    utterances = outside.find("UTTERANCES")
    assert utterances is not None
    last = utterances.findall("UTTERANCE")[-1]
    utterances.remove(last)
    outside.append(last)
    ET.ElementTree(outside).write(tmp / "outside.xml")
    shutil.copy(samples / ELAN_ALI, tmp / "storm.eaf")
    (tmp / "other").mkdir()
    text = STORM.read_text()
    (tmp / "other" / "storm.xml").write_text(text.replace("LAST SUMMER", "LAST WINTER", 1))
    (tmp / "nested" / "sub").mkdir(parents=True)
    shutil.copy(STORM, tmp / "nested" / "sub" / "storm.xml")
    (tmp / "klingon.xml").write_text('<?xml version="1.0" encoding="klingon"?>\n' + text)
    first_a = re.search(r'<A E="(\d+)"', text)
    assert first_a is not None
    (tmp / "overflow.xml").write_text(
        text.replace(first_a.group(0), '<A E="' + "9" * 25 + '"', 1)
    )
    eaf = (samples / ELAN_ALI).read_text()
    (tmp / "twice.eaf").write_text(eaf.replace('ANNOTATION_ID="a2"', 'ANNOTATION_ID="a1"', 1))
    preset = (Path(__file__).parents[1] / "ingest" / "tier_mappings" / "dgs-corpus.toml")
    mapping = preset.read_text()
    first_tier = mapping[mapping.index("[[tier]]") :].split("\n\n")[0]
    (tmp / "twice.toml").write_text(mapping + "\n" + first_tier + "\n")
    (tmp / "tiny.toml").write_text(
        re.sub(r"frames_per_second = \S+", "frames_per_second = 1e-9", mapping)
    )


@pytest.fixture(scope="module")
def storm_ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ingested") / "w.duckdb"
    ingest_corpus(db, [STORM])
    return db


@pytest.mark.parametrize("case", CASES, ids=[f"{c.item}: {c.name}" for c in CASES])
def test_input_fault(
    case: Case, tmp_path: Path, storm_ingested: Path, request: pytest.FixtureRequest
) -> None:
    samples = elan_samples_dir()
    assert (samples / ELAN_ALI).is_file(), f"ELAN samples not found at {samples}"
    inputs = tmp_path / "in"
    inputs.mkdir()
    write_inputs(inputs, samples)
    db = tmp_path / "w.duckdb"
    built = case.warehouse == "built"
    shutil.copy(request.getfixturevalue("sample_db") if built else storm_ingested, db)
    before = state(db, case.same)
    args = [a.format(tmp=inputs, storm=STORM, samples=samples) for a in case.command]
    result = CliRunner().invoke(app, ["--db", str(db), "--quiet", *args])
    assert result.exit_code == case.code, (result.stdout, result.stderr)
    shown = result.stdout + result.stderr if case.code == 0 else result.stderr
    assert case.message in shown, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert state(db, case.same) == before, f"{case.name}: the warehouse changed"
    if case.name == "JSON with a repeated column name":
        assert json.loads(result.stdout) == [{"a": 1, "a_2": 2}]
        assert "a -> a_2" in result.stderr
