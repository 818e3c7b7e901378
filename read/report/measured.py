"""The data of the report's "Measured vs coded" section: the stored `cli.py agree` rows and
one utterance's measure against its coded spans (drawn by figures.measured_figure).

Why its own module: the section reads the Python-written table measure_code_agreement and
the face marts, which the rest of the report never needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from read.agreement import (
    POOLED,
    example_utterance,
    frames_sql,
    stored_rows,
)


@dataclass(frozen=True)
class MeasuredVsCoded:
    """Every stored agreement row, and for the first (measure, code): one utterance's
    frames (value, coded) and its signer's held-out threshold and direction."""

    rows: pa.Table
    measure: str = ""
    code: str = ""
    utterance: tuple[str, int] | None = None
    frames: pa.Table | None = None
    threshold: float | None = None
    direction: int = 1


def load_measured(con: duckdb.DuckDBPyConnection) -> MeasuredVsCoded:
    """The section's data (no rows before `cli.py agree`)."""
    rows = stored_rows(con)
    if not rows.num_rows:
        return MeasuredVsCoded(rows)
    first = rows.slice(0, 1).to_pylist()[0]
    measure, code = first["measure"], first["code"]
    utterance = example_utterance(con, measure, code)
    if utterance is None:
        return MeasuredVsCoded(rows, measure, code)
    frames = frames_sql(con, measure, code, utterance)
    signer = frames["signer"][0].as_py() if frames.num_rows else None
    rule = next(
        (r for r in rows.to_pylist()
         if (r["measure"], r["code"], r["signer"]) == (measure, code, signer)),
        None,
    )  # fmt: skip
    return MeasuredVsCoded(
        rows, measure, code, utterance, frames,
        rule["threshold"] if rule else None, (rule["direction"] or 1) if rule else 1,
    )  # fmt: skip


def pooled_first(rows: pa.Table) -> list[dict]:
    """The stored rows, each (measure, code) pooled row first, then its signers."""
    def order(row: dict) -> tuple:
        return row["measure"], row["code"], row["signer"] != POOLED, row["signer"]

    return sorted(rows.to_pylist(), key=order)
