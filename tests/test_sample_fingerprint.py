"""The sample corpus builds the same marts, row for row, as the warehouse recorded in
tests/golden/sample_marts.json (written before the floors refactor of issue 17). A change that
means to alter a mart rewrites the golden file on purpose (see its docstring); a table added
since is listed in ADDED with why, and every recorded table must still match."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fingerprint import fingerprint

GOLDEN = Path(__file__).parent / "golden" / "sample_marts.json"

#: Base tables added to schema main since the golden file was recorded, each with why.
ADDED = {
    "main.dim_source_files": "the read side's corpus files, so it never reads staging (#17)",
    "main.dim_lexicons": "the report's lexicon provenance, so it never reads raw (#17)",
    "main.dim_media_files": "the media files the ELAN export links, never read from staging (#26)",
    "main.fct_association_units": (
        "intermediate.int_association_units, a mart since dbt flows one way (#25)"
    ),
    "main.dim_build_settings": "every dbt var the build used, one row (#25)",
    "main.dim_build_setting_choices": "the values each build setting may take (#25)",
    "main.fct_label_feature_statistics": (
        "intermediate.int_label_feature_statistics, a mart since dbt flows one way (#25)"
    ),
    "main.fct_face_frames": "face measures per video frame, from tracker CSVs or video (#27)",
    "main.fct_face_measures": "face measures per utterance frame, with robust z-scores (#27)",
}


def test_sample_marts_match_the_recorded_fingerprint(sample_db: Path) -> None:
    recorded = {table: tuple(value) for table, value in json.loads(GOLDEN.read_text()).items()}
    built = fingerprint(sample_db, ("main",), portable=True)
    differing = sorted(t for t in recorded if recorded[t] != built.get(t))
    assert differing == [], (
        f"{len(differing)} tables differ from {GOLDEN.name}: {differing}. If the change is "
        "meant, rewrite the file from tests.fingerprint.fingerprint(db, ('main',), portable=True)."
    )
    unexplained = sorted(built.keys() - recorded.keys() - ADDED.keys())
    assert unexplained == [], f"new tables {unexplained}: list each in ADDED with why"
    assert sorted(ADDED.keys() - built.keys()) == [], "ADDED names a table the build lacks"
