"""The sample corpus builds the same marts, row for row, as the warehouse recorded in
tests/golden/sample_marts.json (written before the floors refactor of issue 17). A change that
means to alter a mart rewrites the golden file on purpose (see its docstring)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fingerprint import fingerprint

GOLDEN = Path(__file__).parent / "golden" / "sample_marts.json"


def test_sample_marts_match_the_recorded_fingerprint(sample_db: Path) -> None:
    recorded = {table: tuple(value) for table, value in json.loads(GOLDEN.read_text()).items()}
    built = fingerprint(sample_db, ("main",), portable=True)
    differing = sorted(t for t in recorded.keys() | built.keys() if recorded.get(t) != built.get(t))
    assert differing == [], (
        f"{len(differing)} tables differ from {GOLDEN.name}: {differing}. If the change is "
        "meant, rewrite the file from tests.fingerprint.fingerprint(db, ('main',), portable=True)."
    )
