"""Benchmark the association mart fct_feature_cooccurrence on the full NCSLGR corpus.

Builds the full-corpus warehouse once (ingest + dbt build) in a temporary folder, then:

1. times `dbt run --select fct_feature_cooccurrence` several times (wall time of the whole
   dbt invocation, and the model's own execution time from run_results.json);
2. times the mart's compiled SQL and a naive baseline directly in DuckDB, same connection,
   same thread count: the baseline is the plain self-join of fct_frame_features on the
   string frame key (source_file, utterance_id, frame_index), with no pre-filtering of rare
   features and no integer keys, counting both orders of each pair. It computes the counts
   only (no statistics), so the ratio understates the gain.

Usage: .venv/bin/python bench/bench_cooccurrence.py [--corpus DIR] [--repeat 5] [--db FILE]
(`--db` reuses an already built warehouse instead of building one.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from pipeline.builds import unrecorded_dbt
from pipeline.corpus import build_warehouse, ingest_corpus
from signaffect.core.settings import ncslgr_dir

KINDS = "('facial', 'head', 'grammatical', 'pos', 'lexical', 'au')"
BASELINE_SQL = f"""
with ff as (
    select source_file, utterance_id, frame_index, feature
    from fct_frame_features
    where feature_kind in {KINDS}
)
select a.feature as feature_a, b.feature as feature_b, count(*) as n_ab
from ff as a
inner join ff as b
    on a.source_file = b.source_file
    and a.utterance_id = b.utterance_id
    and a.frame_index = b.frame_index
    and a.feature <> b.feature
group by a.feature, b.feature
having count(*) >= 10
"""


def _time_sql(db: Path, sql: str, repeat: int, threads: int) -> tuple[list[float], int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute(f"set threads = {threads}")
        con.execute("set enable_progress_bar = false")
        times, rows = [], 0
        for _ in range(repeat):
            start = time.perf_counter()
            rows = con.execute(f"select count(*) from ({sql})").fetchall()[0][0]
            times.append(time.perf_counter() - start)
        return times, rows
    finally:
        con.close()


def _fmt(times: list[float]) -> str:
    return f"median {statistics.median(times):6.3f} s  min {min(times):6.3f} s  (n={len(times)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ncslgr_dir())
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None, help="Reuse a built warehouse.")
    args = parser.parse_args()
    threads = int(os.environ.get("SIGNAFFECT_THREADS", "2"))

    with tempfile.TemporaryDirectory(prefix="bench_cooc_") as tmp:
        db = args.db or Path(tmp) / "warehouse.duckdb"
        if args.db is None:
            start = time.perf_counter()
            ingest_corpus(db, [args.corpus])
            build_warehouse(db)
            print(f"built full-corpus warehouse in {time.perf_counter() - start:.1f} s: {db}")
        target = Path(tmp) / "target"

        dbt_wall, dbt_exec = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            unrecorded_dbt(
                "run",
                db,
                extra_args=["--select", "fct_feature_cooccurrence", "--target-path", str(target)],
            )
            dbt_wall.append(time.perf_counter() - start)
            results = json.loads((target / "run_results.json").read_text())["results"]
            dbt_exec.append(results[0]["execution_time"])
        compiled = (
            target / "compiled" / "signaffect" / "models" / "marts" / "fct_feature_cooccurrence.sql"
        ).read_text()

        con = duckdb.connect(str(db), read_only=True)
        try:
            n_rows, n_pairs, n_features, n_ff = con.execute(
                """
                select count(*),
                    count(*) filter (where feature_a < feature_b),
                    count(distinct feature_a),
                    (select count(*) from fct_frame_features where feature_kind in """
                + KINDS
                + """)
                from fct_feature_cooccurrence
                """
            ).fetchall()[0]
            n_sig = con.execute(
                "select count(*) from fct_feature_cooccurrence "
                "where feature_a < feature_b and q_value_frames < 0.05"
            ).fetchall()[0][0]
        finally:
            con.close()

        mart_sql, mart_rows = _time_sql(db, compiled, args.repeat, threads)
        base_sql, base_rows = _time_sql(db, BASELINE_SQL, args.repeat, threads)

    print(f"threads={threads}, cpu count={os.cpu_count()}")
    print(
        f"input: {n_ff} frame-feature rows of the paired kinds; {n_features} features paired; "
        f"{n_rows} ordered rows = {n_pairs} unordered pairs ({n_sig} with q < 0.05)"
    )
    print(f"dbt run -s fct_feature_cooccurrence, wall      : {_fmt(dbt_wall)}")
    print(f"dbt run -s fct_feature_cooccurrence, model exec: {_fmt(dbt_exec)}")
    print(f"mart SQL in DuckDB (all statistics)           : {_fmt(mart_sql)}  rows={mart_rows}")
    print(f"baseline naive string self-join (counts only) : {_fmt(base_sql)}  rows={base_rows}")
    ratio = statistics.median(base_sql) / statistics.median(mart_sql)
    print(f"speed-up of the mart SQL over the baseline (median): {ratio:.1f}x")
    if base_rows != mart_rows:
        print(f"WARNING: baseline found {base_rows} ordered pairs, the mart {mart_rows}")


if __name__ == "__main__":
    main()
