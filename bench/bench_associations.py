"""Benchmark the clustered association mart against the frame-level co-occurrence mart.

Builds the full-NCSLGR warehouse once (ingest + dbt build) in a temporary folder (or reuses
`--db`), then, in the same process and on the same file, times:

1. `dbt run` of the clustered statistics: `fct_association_units`,
   `fct_label_feature_statistics` (the Python model: exact within-story test and interval
   at sign and utterance grain, story bootstraps at frame grain and for lift) and
   `fct_label_feature_associations`, with `--resamples` bootstrap draws (default 1000; the
   project default is 10,000);
2. `dbt run --select fct_feature_cooccurrence`, today's frame-level G² mart;

and prints both wall times and CPU times (this process, DuckDB's threads included: what the
run costs whatever else the machine is doing), their ratios, and how many pairs each calls
significant. Threads: env SIGNAFFECT_THREADS (default 2), as for every dbt run.

Usage: .venv/bin/python bench/bench_associations.py [--corpus DIR] [--db FILE]
       [--resamples 1000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from pipeline.builds import unrecorded_dbt
from pipeline.corpus import build_warehouse, ingest_corpus
from signaffect.core.settings import ncslgr_dir

CLUSTERED = [
    "fct_association_units",
    "fct_label_feature_statistics",
    "fct_label_feature_associations",
]
FRAME_LEVEL = ["fct_feature_cooccurrence"]
TARGET_SECONDS = 60.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _time_run(
    db: Path, models: list[str], dbt_vars: dict[str, object], repeat: int
) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each `dbt run --select models`."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), _cpu_seconds()
        unrecorded_dbt("run", db, dbt_vars=dbt_vars, extra_args=["--select", *models])
        wall.append(time.perf_counter() - start)
        cpu.append(_cpu_seconds() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ncslgr_dir())
    parser.add_argument("--db", type=Path, default=None, help="Reuse a built warehouse.")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    threads = os.environ.get("SIGNAFFECT_THREADS", "2")
    dbt_vars = {"association_resamples": args.resamples}

    with tempfile.TemporaryDirectory(prefix="bench_assoc_") as tmp:
        db = args.db or Path(tmp) / "warehouse.duckdb"
        if args.db is None:
            start = time.perf_counter()
            ingest_corpus(db, [args.corpus])
            build_warehouse(db, dbt_vars=dbt_vars)
            print(f"built full-corpus warehouse in {time.perf_counter() - start:.1f} s: {db}")
        clustered = _time_run(db, CLUSTERED, dbt_vars, args.repeat)
        frame_level = _time_run(db, FRAME_LEVEL, dbt_vars, args.repeat)
        with duckdb.connect(str(db), read_only=True) as con:
            per_grain = con.execute(
                "select grain, count(*), count(*) filter (where q_value < 0.05) "
                "from fct_label_feature_associations group by grain order by grain"
            ).fetchall()
            pairs, significant = con.execute(
                "select count(*), count(*) filter (where q_value_frames < 0.05) "
                "from fct_feature_cooccurrence where feature_a < feature_b"
            ).fetchall()[0]

    clustered_s, frame_s = statistics.median(clustered[0]), statistics.median(frame_level[0])
    clustered_cpu, frame_cpu = statistics.median(clustered[1]), statistics.median(frame_level[1])
    print(f"threads={threads}, cpu count={os.cpu_count()}, resamples={args.resamples}")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"clustered statistics mart (dbt run, 3 models): wall {clustered_s:6.1f} s, "
        f"cpu {clustered_cpu:6.1f} s"
    )
    print(
        f"frame-level fct_feature_cooccurrence (dbt run): wall {frame_s:6.1f} s, "
        f"cpu {frame_cpu:6.1f} s"
    )
    print(
        f"ratio clustered / frame-level: wall {clustered_s / frame_s:.1f}x, "
        f"cpu {clustered_cpu / frame_cpu:.1f}x"
    )
    verdict = "within" if clustered_s <= TARGET_SECONDS else "OVER"
    print(f"target <= {TARGET_SECONDS:.0f} s: {verdict}")
    for grain, n, n_sig in per_grain:
        print(f"  {grain:9s} {n:6d} label x feature pairs tested, {n_sig:5d} with q < 0.05")
    print(f"  frame-level G² (descriptive): {pairs} feature pairs, {significant} with q < 0.05")


if __name__ == "__main__":
    main()
