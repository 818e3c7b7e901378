"""FER results into the warehouse: the raw.fer_* tables, a status row per video, the corpus's
media files a --videos folder is matched against, and the loading of results and shards.

Why: the FER engine (signaffect/fer_engine) only computes, with no DuckDB; this module is
the one that writes its results, each analysis key replacing its own rows in one transaction,
so loading twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pyarrow as pa

from ingest.raw_store import RAW_SCHEMA
from signaffect.core.arrow_tables import ensure_table, insert_arrow, transaction
from signaffect.core.settings import MEDIA_NAME_MACRO_FILE
from signaffect.fer_engine.schema import FER_FRAMES_SCHEMA, VideoKey
from signaffect.fer_engine.shards import key_dir, read_video, stored_keys

if TYPE_CHECKING:  # duckdb is imported by the caller
    import duckdb

FER_VIDEOS_SCHEMA = pa.schema(
    [
        ("video_file", pa.string()),
        ("video_path", pa.string()),
        ("video_hash", pa.string()),
        ("model_hash", pa.string()),
        ("detector_settings", pa.string()),
        ("mode", pa.string()),
        ("n_frames", pa.int32()),
        ("fps", pa.float64()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("elapsed_s", pa.float64()),
        ("analysed_at", pa.timestamp("us", tz="UTC")),
    ]
)


#: The raw tables of this source, by name.
FER_TABLES: dict[str, pa.Schema] = {
    "fer_frames": FER_FRAMES_SCHEMA,
    "fer_videos": FER_VIDEOS_SCHEMA,
}


def status_row(
    path: Path | str,
    key: VideoKey,
    mode: str,
    *,
    table: pa.Table | None = None,
    error: str | None = None,
    elapsed_s: float | None = None,
) -> dict[str, Any]:
    """The raw.fer_videos row for one video: 'ok' with the table's metadata, else 'failed'."""
    meta = (
        {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        if table is not None
        else {}
    )
    path = Path(path)
    return {
        "video_file": path.name,
        "video_path": str(path),
        "video_hash": key.video_hash,
        "model_hash": key.model_hash,
        "detector_settings": key.detector_settings,
        "mode": mode,
        "n_frames": int(meta["n_frames"]) if meta else None,
        "fps": float(meta["fps"]) if meta else None,
        "width": int(meta["width"]) if meta else None,
        "height": int(meta["height"]) if meta else None,
        "status": "failed" if error else "ok",
        "error": error,
        "elapsed_s": elapsed_s,
        "analysed_at": datetime.now(UTC),
    }


def ensure_fer_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema raw and the two FER tables if they are missing."""
    for name, schema in FER_TABLES.items():
        ensure_table(con, RAW_SCHEMA, name, schema)


def media_rule_sql(macro: str, column: str) -> str:
    """The SQL of one macro of the media-name rule (`media_file_name` or `camera_view`)
    applied to `column`, rendered from the dbt project's macros/media_file_name.sql, the
    one place the rule is written; stg_signstream__media_files uses the same macros."""
    template = MEDIA_NAME_MACRO_FILE.read_text() + f"{{{{ {macro}({column!r}) }}}}"
    return jinja2.Environment().from_string(template).render().strip()


def corpus_media_names(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    """File names of the ingested corpus's media files in camera view `view`, sorted.

    Read from raw (the warehouse may not be built yet) with the rule that
    stg_signstream__media_files applies, so the videos chosen here are the ones
    fct_fer_frames links to the corpus.
    """
    exists = con.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'raw' and table_name = 'signstream_media_files'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    name = media_rule_sql("media_file_name", "legacy_path")
    rows = con.execute(
        f"select distinct {name} as media_file_name from raw.signstream_media_files"
        f" where {media_rule_sql('camera_view', 'legacy_path')} = ? order by media_file_name",
        [view],
    ).fetchall()
    return [file_name for (file_name,) in rows if file_name]


def match_corpus_videos(
    con: duckdb.DuckDBPyConnection, folder: Path, view: str
) -> tuple[list[Path], list[str]]:
    """The files directly in `folder` named like a corpus media file of `view`, and the
    media file names of that view with no such file (matching is by exact file name)."""
    on_disk = {path.name: path for path in Path(folder).iterdir() if path.is_file()}
    names = corpus_media_names(con, view)
    return [on_disk[n] for n in names if n in on_disk], [n for n in names if n not in on_disk]


def load_fer_results(
    con: duckdb.DuckDBPyConnection,
    table: pa.Table | None,
    status_rows: Sequence[dict[str, Any]],
    *,
    tables: tuple[str, ...] = ("fer_frames", "fer_videos"),
) -> None:
    """Replace the rows of each (video_hash, model_hash, detector_settings) in one transaction.

    A video without a hash (missing file) is keyed by its path instead. `tables` names the
    frames table (if any) and, last, the status table: the face engine keeps its status
    rows in raw.face_videos (same columns) and loads its frames through its own loader.
    """
    *frames_tables, videos_table = tables
    for name in frames_tables:
        ensure_table(con, RAW_SCHEMA, name, FER_FRAMES_SCHEMA)
    ensure_table(con, RAW_SCHEMA, videos_table, FER_VIDEOS_SCHEMA)
    videos = pa.Table.from_pylist(list(status_rows), schema=FER_VIDEOS_SCHEMA)
    frames = table if table is not None else FER_FRAMES_SCHEMA.empty_table()
    keys = {
        (r["video_hash"], r["model_hash"], r["detector_settings"], r["video_path"])
        for r in videos.to_pylist()
    }
    keys |= {
        (r["video_hash"], r["model_hash"], r["detector_settings"], None)
        for r in frames.select(["video_hash", "model_hash", "detector_settings"])
        .group_by(["video_hash", "model_hash", "detector_settings"])
        .aggregate([])
        .to_pylist()
    }
    with transaction(con):
        for digest, model, settings, video_path in keys:
            if digest is None:
                con.execute(
                    f"delete from raw.{videos_table} where video_hash is null and video_path = ?"
                    " and model_hash = ? and detector_settings = ?",
                    [video_path, model, settings],
                )
                continue
            for name in tables:
                con.execute(
                    f"delete from raw.{name} where video_hash = ? and model_hash = ?"
                    " and detector_settings = ?",
                    [digest, model, settings],
                )
        for name in frames_tables:
            insert_arrow(con, f"raw.{name}", frames)
        insert_arrow(con, f"raw.{videos_table}", videos)


def loaded_ok(con: duckdb.DuckDBPyConnection, key: VideoKey, videos_table: str) -> bool:
    """Whether the status table holds an 'ok' row for this analysis key."""
    ensure_table(con, RAW_SCHEMA, videos_table, FER_VIDEOS_SCHEMA)
    row = con.execute(
        f"select count(*) from raw.{videos_table} where video_hash = ? and model_hash = ?"
        " and detector_settings = ? and status = 'ok'",
        list(key),
    ).fetchone()
    return bool(row and row[0])


def load_video(con: duckdb.DuckDBPyConnection, root: Path, key: VideoKey) -> bool:
    """Load one key's complete shards into raw.fer_* (replacing that key's rows)."""
    found = read_video(key_dir(root, key))
    if found is None:
        return False
    table, meta = found
    mode = table.column("mode")[0].as_py()
    table = table.replace_schema_metadata(meta)
    row = status_row(meta["video_path"], key, mode, table=table, elapsed_s=float(meta["elapsed_s"]))
    load_fer_results(con, table, [row])
    return True


def load_shards(con: duckdb.DuckDBPyConnection, root: Path) -> int:
    """Load every complete video under root into raw.fer_*; returns how many. Idempotent."""
    return sum(load_video(con, root, key) for key in stored_keys(root))
