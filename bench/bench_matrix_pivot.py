"""Benchmark the ML matrix pivot: the long `ml_frame_matrix` (one row per frame, list columns)
to the one-hot X and label Y arrays, as ml/data.py's encode does it (Arrow list offsets +
index_in into a CSR matrix) against a polars version (explode, join to column numbers, CSR),
on NCSLGR.

Both start from the same Arrow tables read once from the warehouse, so the read is not
timed; the polars time includes converting the Arrow table to a polars frame. The ratio is
against the ml/data.py baseline measured in the same run.

Usage: .venv/bin/python bench/bench_matrix_pivot.py [--corpus DIR] [--repeat 7] [--db FILE]
(`--db` reuses an already built warehouse instead of building one.)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import scipy.sparse as sp

from ml.data import CATALOG_TABLE, MARTS, _one_hot
from ml.options import Grain
from pipeline.corpus import build_warehouse, ingest_corpus
from signaffect.core.settings import ncslgr_dir
from signaffect.core.warehouse import connect


def _read(db: Path) -> tuple[pa.Table, pa.Table]:
    """The frame mart's list columns in ml/data.py's row order, and the feature catalog."""
    mart = MARTS[Grain.frame]
    con = connect(db, read_only=True)
    try:
        matrix = con.sql(
            f"select input_features, labels from main.{mart.table} order by {mart.order}"
        ).to_arrow_table()
        catalog = con.sql(f"select feature, role from main.{CATALOG_TABLE}").to_arrow_table()
    finally:
        con.close()
    return matrix, catalog


def _polars_one_hot(frame: pl.DataFrame, column: str, names: list[str]) -> sp.csr_matrix:
    """CSR one-hot of a list column: explode with the row number, join to column numbers
    (scipy sums duplicate cells while building the CSR; reset to 1)."""
    index = pl.DataFrame({column: names, "col": np.arange(len(names), dtype=np.int32)})
    long = (
        frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("row"), column)
        .explode(column)
        .drop_nulls(column)
        .join(index, on=column, how="inner")
    )
    out = sp.csr_matrix(
        (np.ones(long.height, dtype=np.float32), (long["row"].to_numpy(), long["col"].to_numpy())),
        shape=(frame.height, len(names)),
    )
    out.data[:] = 1.0  # a name listed twice on a row counts once, as in ml/data.py
    return out


def _names(catalog: pa.Table, role: str) -> list[str]:
    return sorted(r["feature"] for r in catalog.to_pylist() if r["role"] == role)


def arrow_pivot(matrix: pa.Table, catalog: pa.Table) -> tuple[sp.csr_matrix, np.ndarray]:
    """X and Y exactly as ml/data.py's encode computes them (its other columns left out)."""
    X = _one_hot(matrix.column("input_features"), _names(catalog, "input"), "input_features")
    Y = _one_hot(matrix.column("labels"), _names(catalog, "label"), "labels")
    return X, Y.toarray().astype(np.uint8)


def polars_pivot(matrix: pa.Table, catalog: pa.Table) -> tuple[sp.csr_matrix, np.ndarray]:
    """X and Y as ml/data.py's encode returns them, computed with polars."""
    frame = pl.from_arrow(matrix.select(["input_features", "labels"]))
    assert isinstance(frame, pl.DataFrame)
    X = _polars_one_hot(frame, "input_features", _names(catalog, "input"))
    Y = _polars_one_hot(frame, "labels", _names(catalog, "label")).toarray().astype(np.uint8)
    return X, Y


def _time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ncslgr_dir())
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "warehouse.duckdb"
            ingest_corpus(db, [args.corpus])
            build_warehouse(db)
        matrix, catalog = _read(db)
    X0, Y0 = arrow_pivot(matrix, catalog)
    X, Y = polars_pivot(matrix, catalog)
    assert (X != X0).nnz == 0 and np.array_equal(Y, Y0), "pivots disagree"
    baseline = _time(lambda: arrow_pivot(matrix, catalog), args.repeat)
    candidate = _time(lambda: polars_pivot(matrix, catalog), args.repeat)
    print(f"{matrix.num_rows:,} frames, X {X.shape} ({X.nnz:,} cells), Y {Y.shape}; "
          f"median of {args.repeat}")
    print(f"ml/data.py (Arrow)       : {baseline * 1000:8.1f} ms   (baseline, 1.00x)")
    print(f"polars pivot             : {candidate * 1000:8.1f} ms   ({baseline / candidate:.2f}x)")


if __name__ == "__main__":
    main()
