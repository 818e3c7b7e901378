"""Every source's raw tables, in one registry, and the one function that creates them.

Why: dbt builds on any subset of sources (a corpus without videos, or FER results without a
corpus), so every raw table must exist, empty if need be, before a build; the pipeline asks
this module rather than each source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from ingest.corpus import CORPUS_TABLES
from ingest.face_frames import FACE_TABLES
from ingest.fer import FER_TABLES
from ingest.raw_store import RAW_SCHEMA
from signaffect.core.arrow_tables import ensure_table

if TYPE_CHECKING:
    import duckdb

#: raw table name → Arrow schema, for every source.
RAW_TABLES: dict[str, pa.Schema] = {**CORPUS_TABLES, **FER_TABLES, **FACE_TABLES}


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema raw and every source's raw tables that are missing, empty."""
    for name, schema in RAW_TABLES.items():
        ensure_table(con, RAW_SCHEMA, name, schema)
