"""The real NCSLGR corpus (38 files): the numbers the reference study reports."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb

from pipeline.corpus import ingest_corpus
from tests.conftest import scalar
from tests.signstream_facts import TRANSITION_VALUE_IDS

REFERENCE_FRAMES = 180_669


def test_utterances_signers_and_files(corpus_db: Path) -> None:
    assert scalar(corpus_db, "select count(*) from staging.stg_signstream__files") == 38
    assert scalar(corpus_db, "select count(*) from dim_utterances") == 1887
    assert scalar(corpus_db, "select count(*) from dim_signers") == 8
    assert scalar(corpus_db, "select count(distinct signer_id) from fct_frames") == 8


def test_total_frames_within_half_a_percent_of_the_study(corpus_db: Path) -> None:
    frames = scalar(corpus_db, "select count(*) from fct_frames")
    assert isinstance(frames, int)
    assert abs(frames - REFERENCE_FRAMES) / REFERENCE_FRAMES < 0.005, frames


def _normalised(name: str) -> str:
    """Mirror of ingest.signstream.normalize_field_name, written independently for the test."""
    name = " ".join(name.split())
    aliases = {
        "head pos:jut": "head pos: jut",
        "POS2": "Non-dominant POS",
        "non-dominant POS": "Non-dominant POS",
        "nondominant POS": "Non-dominant POS",
    }
    return aliases.get(name, name)


def corpus_coded_features(corpus_dir: Path) -> set[str]:
    """Every `field=value` used by some annotation, read straight from the XML."""
    features: set[str] = set()
    for path in corpus_dir.glob("*.xml"):
        root = ET.parse(path).getroot()
        fields = {f.get("ID"): f for f in root.iter("FIELD")}
        for track in root.iter("TRACK"):
            field = fields.get(track.get("FID"))
            for a in track.iter("A"):
                vid = a.get("VID")
                if field is None or vid is None or int(vid) in TRANSITION_VALUE_IDS:
                    continue
                value = next(v for v in field.iter("VALUE") if v.get("ID") == vid)
                features.add(
                    f"{_normalised(field.get('NAME', ''))}={value.get('NAME', '').strip()}"
                )
    return features


def test_every_coded_feature_is_in_dim_features(corpus_db: Path, corpus_dir: Path) -> None:
    expected = corpus_coded_features(corpus_dir)
    con = duckdb.connect(str(corpus_db), read_only=True)
    have = {r[0] for r in con.execute("select feature from dim_features").fetchall()}
    con.close()
    assert len(expected) > 250
    assert expected - have == set()


def test_ingesting_twice_gives_identical_row_counts(
    tmp_path: Path, corpus_dir: Path, corpus_db: Path
) -> None:
    """The second ingest of the corpus, into a copy of the fixture's warehouse (whose raw
    tables are the first ingest's rows): the same row counts, none duplicated."""
    db = tmp_path / "twice.duckdb"
    shutil.copy(corpus_db, db)
    second = ingest_corpus(db, [corpus_dir]).rows
    first = {table: scalar(corpus_db, f"select count(*) from raw.{table}") for table in second}
    assert first == second
    for table, rows in second.items():
        assert scalar(db, f"select count(*) from raw.{table}") == rows
    assert first["signstream_utterances"] == 1887
