"""The corpus files loaded into the warehouse, read from `raw` so it works before any build.

`cli.py status` lists them; the read side, which reads marts only, says the same from
`dim_source_files` once dbt has built it.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from signaffect.core.warehouse import connect, table_exists


def loaded_files(db: Path) -> pa.Table:
    """The corpus files in the warehouse: name, content hash, size, where from."""
    con = connect(db, read_only=True)
    try:
        if not table_exists(con, "raw", "signstream_files"):
            return pa.table({"file": pa.array([], pa.string())})
        return con.sql(
            "select source_file as file, content_hash as sha256, n_bytes as bytes, "
            "source_path as path from raw.signstream_files order by source_file"
        ).to_arrow_table()
    finally:
        con.close()
