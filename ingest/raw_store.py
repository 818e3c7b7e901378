"""Write Arrow tables into DuckDB schema `raw`, replacing a source file's rows atomically.

Every corpus ingestor (SignStream, ELAN, DAI 2, lexicon hits) funnels through
`replace_source_rows`: one transaction deletes the rows of the files being (re)loaded and
inserts the new ones, so re-ingest never duplicates and a failure rolls back to the warehouse
as it was. FER results are keyed by video and analysis, not by corpus file: `ingest/fer.py`
replaces each analysis key's rows the same way, in its own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from signaffect.core.arrow_tables import ensure_table, insert_arrow, transaction
from signaffect.core.failpoints import failpoint

if TYPE_CHECKING:  # only for annotations
    import duckdb

RAW_SCHEMA = "raw"


def replace_source_rows(
    con: duckdb.DuckDBPyConnection,
    tables: Mapping[str, pa.Table],
    source_files: Sequence[str],
    key_column: str = "source_file",
) -> None:
    """In one transaction, drop the rows of `source_files` from each table and insert `tables`."""
    for name, table in tables.items():
        ensure_table(con, RAW_SCHEMA, name, table.schema)
    with transaction(con):
        for name, table in tables.items():
            con.execute(
                f"delete from {RAW_SCHEMA}.{name} where {key_column} in (select unnest(?))",
                [list(source_files)],
            )
            if table.num_rows:
                insert_arrow(con, f"{RAW_SCHEMA}.{name}", table)
        failpoint("ingest.commit")
    failpoint("ingest.committed")
