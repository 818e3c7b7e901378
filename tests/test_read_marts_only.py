"""The read side (signaffect/read/) reads marts only: no SQL there names a `raw.` table or a
`stg_` view, so a staging rename can never break a report, an export or `cli.py top`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

READ = Path(__file__).resolve().parents[1] / "signaffect" / "read"
#: SQL text: a string that selects from something.
_SQL = re.compile(r"\b(select|from|join)\b", re.IGNORECASE)
_BELOW_MARTS = re.compile(r"\braw\.|\bstg_|\bstaging\.")


def below_marts(source: str) -> list[str]:
    """The SQL strings in `source` that name a table below the marts."""
    return [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _SQL.search(node.value)
        and _BELOW_MARTS.search(node.value)
    ]


def test_no_read_module_names_raw_or_staging_in_sql() -> None:
    found = {
        str(path.relative_to(READ)): hits
        for path in sorted(READ.rglob("*.py"))
        if (hits := below_marts(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_check_sees_raw_and_staging() -> None:
    assert below_marts('sql = "select * from raw.signstream_files"')
    assert below_marts("sql = 'select count(*) from stg_signstream__files'")
    assert not below_marts('note = "word hits (`raw.lexicon_hits`) in prose"')
    assert not below_marts('sql = "select * from dim_source_files"')
