"""Reuse a dbt Python model's last result while nothing it reads has changed.

Why: the association statistics bootstrap a thousand resamples per grain, and most builds
(a re-run, an edit of a seed or a model elsewhere) do not change their inputs. The wrapper
sits around the compute call, so the computation can be rewritten freely: reuse is decided
by a fingerprint of the rows read, the settings, the code that computes (the model's
compiled file and the packages named) and the versions of the numeric libraries. The
fingerprint is stored in each output row (`inputs_fingerprint`), so the table and its key
are written in one transaction and cannot disagree.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa

#: The column holding the fingerprint of the inputs each row was computed from.
FINGERPRINT_COLUMN = "inputs_fingerprint"

#: Libraries whose version can change a computed number.
NUMERIC_PACKAGES = ("duckdb", "numpy", "scipy", "pyarrow")


def reuse_or_compute(
    dbt: Any,
    session: Any,
    inputs: Mapping[str, Any],
    settings: object,
    compute: Callable[..., pa.Table],
    code: Sequence[ModuleType] = (),
) -> Any:
    """A relation over `compute(**tables)` of the relations `inputs` maps to argument names
    (the model calls `dbt.ref` itself: dbt finds a model's parents only in literal calls),
    or, when the model's current table was computed from the same fingerprint, that table
    unchanged.

    `settings` must print (`repr`) everything else the result depends on; `code` names
    modules whose whole package is the computation (their source files are hashed).
    """
    sources = [path.read_bytes() for path in _sources(code)]
    key = fingerprint(inputs, settings, [*_model_code(compute, dbt.this.database), *sources])
    if _holds(session, dbt.this, key):
        return session.table(repr(dbt.this))
    result = compute(**{name: relation.to_arrow_table() for name, relation in inputs.items()})
    # Handed back as a relation over the Arrow table: dbt-duckdb imports pyarrow.dataset
    # (~0.3 s) before storing a bare Arrow table, and the rows are the same.
    return session.from_arrow(
        result.append_column(FINGERPRINT_COLUMN, pa.array([key] * result.num_rows, pa.string()))
    )


def fingerprint(relations: Mapping[str, Any], settings: object, code: Sequence[bytes]) -> str:
    """SHA-256 over each DuckDB relation's columns and rows (order-free: count, XOR and sum
    of DuckDB's row hashes, computed in DuckDB: a reused result never leaves it),
    `repr(settings)`, the code's bytes and the numeric libraries' versions."""
    digest = hashlib.sha256()
    for name in sorted(relations):
        relation = relations[name]
        rows = relation.query(
            "t", "select count(*), bit_xor(hash(t)), sum(hash(t)::hugeint) from t"
        ).fetchall()
        columns = list(zip(relation.columns, map(str, relation.types), strict=True))
        digest.update(f"{name}\n{columns}\n{rows}\n".encode())
    digest.update(repr(settings).encode())
    for text in code:
        digest.update(text)
    for package in NUMERIC_PACKAGES:
        digest.update(importlib.metadata.version(package).encode())
    return digest.hexdigest()


def _holds(session: Any, this: Any, key: str) -> bool:
    """Whether the model's table exists, has rows, and every row carries `key` (checked by
    the catalog first: a failed statement would abort dbt's transaction)."""
    (found,) = session.execute(
        "select count(*) from information_schema.columns "
        "where table_schema = ? and table_name = ? and column_name = ?",
        [this.schema, this.identifier, FINGERPRINT_COLUMN],
    ).fetchall()
    if not found[0]:
        return False
    ((rows, matching),) = session.execute(
        f"select count(*), count(*) filter (where {FINGERPRINT_COLUMN} = ?) from {this!r}",
        [key],
    ).fetchall()
    return bool(rows) and rows == matching


def _model_code(compute: Callable[..., Any], database: str) -> list[bytes]:
    """The dbt model's compiled file (dbt-duckdb runs it from a temporary file, as the
    compute function's module), which carries the model's code and rendered config, with
    the warehouse's database name (the file's name, in every relation it renders) made
    neutral: the same code over the same rows is the same key in any warehouse file."""
    path = getattr(compute, "__globals__", {}).get("__file__")
    if not path or not Path(path).is_file():
        return []
    text = Path(path).read_bytes()
    for quoted in (f'\\"{database}\\"', f'"{database}"'):  # in a rendered ref, and alone
        text = text.replace(quoted.encode(), b"<database>")
    return [text]


def _sources(modules: Sequence[ModuleType]) -> list[Path]:
    """Every Python source file of the packages holding `modules`, in a stable order."""
    folders = sorted({Path(str(module.__file__)).parent for module in modules})
    return [path for folder in folders for path in sorted(folder.glob("*.py"))]
