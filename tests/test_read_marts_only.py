"""The read side (read/) reads marts only: no SQL there names a `raw.` table, a
`stg_` view or an `int_` model, so a staging or intermediate rename can never break a report,
an export or `cli.py top`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

READ = Path(__file__).resolve().parents[1] / "signaffect" / "read"
#: SQL text: a string that selects from something.
_SQL = re.compile(r"\b(select|from|join)\b", re.IGNORECASE)
_BELOW_MARTS = re.compile(r"\braw\.|\bstg_|\bstaging\.|\bint_|\bintermediate\.")


def below_marts(source: str) -> list[str]:
    """The SQL strings in `source` that name a table below the marts (docstrings are prose,
    which may name the model a mart comes from)."""
    tree = ast.parse(source)
    prose = {id(doc) for doc in _docstrings(tree)}
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in prose
        and _SQL.search(node.value)
        and _BELOW_MARTS.search(node.value)
    ]


def _docstrings(tree: ast.Module) -> list[ast.expr]:
    """The docstring nodes of the module and of its classes and functions."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return [
        node.body[0].value
        for node in ast.walk(tree)
        if isinstance(node, owners)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    ]


def test_no_read_module_names_raw_staging_or_intermediate_in_sql() -> None:
    found = {
        str(path.relative_to(READ)): hits
        for path in sorted(READ.rglob("*.py"))
        if (hits := below_marts(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_check_sees_raw_staging_and_intermediate() -> None:
    assert below_marts('sql = "select * from raw.signstream_files"')
    assert below_marts("sql = 'select count(*) from stg_signstream__files'")
    assert below_marts('sql = "select * from intermediate.int_lexicon_hits_classified"')
    assert below_marts("sql = 'select unit_key from int_lexicon_lookups_filtered'")
    assert not below_marts('note = "word hits (`raw.lexicon_hits`) in prose"')
    assert not below_marts('"""Rows of a mart made from `int_lexicon_hits_classified`."""')
    assert not below_marts('sql = "select * from dim_source_files"')
    assert not below_marts('sql = "select sign_token_id from fct_sign_tokens"')
