"""Engine results as Parquet shards on disk, one per unit and analysis (ingest loads them).

Why: a shard is written the moment its unit finishes, by the process that drives the run,
so no engine (local processes or a Ray cluster) needs the warehouse or a shared disk for
results, a crash loses at most the units in flight, and finished units are skipped on a
re-run. Shards live under <root>/<video_hash>/<model_hash>/<settings digest>/, the same key
as raw.fer_*; a video loads once all its chunks are there, in one transaction that replaces
that key's rows, so loading twice changes nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from signaffect.fer_engine.schema import VideoKey

if TYPE_CHECKING:  # the engine itself (OpenCV, the model) loads only where units run
    from signaffect.fer_engine.units import KeyedUnit, UnitResult

STOP_AT_END = "end"  # the stop of a video's last chunk in shard metadata


def key_dir(root: Path, key: VideoKey) -> Path:
    """The folder of one analysis key's shards."""
    settings = hashlib.sha256(key.detector_settings.encode()).hexdigest()[:16]
    return Path(root) / str(key.video_hash) / key.model_hash / settings


def shard_path(root: Path, unit: KeyedUnit) -> Path:
    return key_dir(root, unit.key) / f"frames-{unit.start:010d}.parquet"


def _metadata(path: Path) -> dict[str, str]:
    meta = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items()}


def _stop_text(stop: int | None) -> str:
    return STOP_AT_END if stop is None else str(stop)


def is_done(root: Path, unit: KeyedUnit) -> bool:
    """Whether this unit's shard (same start and stop) is already on disk."""
    path = shard_path(root, unit)
    return path.is_file() and _metadata(path).get("stop") == _stop_text(unit.stop)


def write_shard(root: Path, result: UnitResult) -> Path:
    """Write a finished unit's rows atomically (a reader never sees half a shard)."""
    assert result.table is not None, "only successful units have shards"
    unit = result.unit
    path = shard_path(root, unit)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(result.table.schema.metadata or {})
    meta.update(
        {
            b"start": str(unit.start).encode(),
            b"stop": _stop_text(unit.stop).encode(),
            b"elapsed_s": repr(result.elapsed_s).encode(),
        }
    )
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    pq.write_table(result.table.replace_schema_metadata(meta), partial, compression="zstd")
    os.replace(partial, path)
    return path


def read_video(folder: Path) -> tuple[pa.Table, dict[str, str]] | None:
    """A video's rows from its chunks, following starts from frame 0 to the chunk that runs
    to the end, with merged metadata; None while a chunk is missing."""
    by_start = {int(p.stem.split("-")[1]): p for p in folder.glob("frames-*.parquet")}
    tables, frames, elapsed, position = [], 0, 0.0, 0
    while position in by_start:
        table = pq.read_table(by_start[position])
        meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        tables.append(table.replace_schema_metadata(None))
        frames += int(meta["n_frames"])
        elapsed += float(meta["elapsed_s"])
        if meta["stop"] == STOP_AT_END:
            first = _metadata(by_start[0])
            merged = {**first, "n_frames": str(frames), "elapsed_s": repr(elapsed)}
            return pa.concat_tables(tables), merged
        position = int(meta["stop"])
    return None


def stored_keys(root: Path) -> Iterator[VideoKey]:
    """Every analysis key with shards under root (settings read back from the rows)."""
    for folder in sorted(Path(root).glob("*/*/*")):
        shards = sorted(folder.glob("frames-*.parquet"))
        if shards:
            first = pq.read_table(shards[0], columns=["detector_settings"]).column(0)
            yield VideoKey(folder.parent.parent.name, folder.parent.name, first[0].as_py())
