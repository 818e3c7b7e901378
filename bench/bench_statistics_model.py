"""Benchmark the association statistics' dbt Python model on a fresh table: this tree
against a baseline git ref (default `main`), alternately, in one run, and the two tables.

Builds the full-NCSLGR warehouse once with this tree (or reuses `--db`) and copies it once
per side (the marts upstream of the statistics are the same in both trees). Each round, per
side in turn, drops `fct_label_feature_statistics` (so the model cache cannot reuse it: a
fresh warehouse's first build) and, in a fresh Python process whose working directory is
the side's tree (its own `signaffect` and dbt project, through its
`pipeline.builds.unrecorded_dbt`), runs `dbt run --select fct_label_feature_statistics`.
Prints the node's time from dbt's run_results.json, the CPU seconds of the model's
`reuse_or_compute` call (fingerprint, reading the inputs, the statistics; DuckDB's and
OpenBLAS's threads included: what the load inflates least), the process's wall seconds,
their medians and ratios, the machine's load
before and after (timings compare only within a run), and whether the two tables hold the
same rows: every column but `inputs_fingerprint` (which keys the code), EXCEPT both ways.
Threads: env SIGNAFFECT_THREADS (default 2).

Usage: .venv/bin/python bench/bench_statistics_model.py [--baseline main] [--corpus DIR]
       [--db FILE] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import duckdb

from pipeline.corpus import build_warehouse, ingest_corpus
from signaffect.core.settings import ncslgr_dir

ROOT = Path(__file__).resolve().parents[1]
MODEL = "fct_label_feature_statistics"
_RUN = f"""
import json, resource, sys
from pathlib import Path
from pipeline.builds import unrecorded_dbt
from signaffect.core import model_cache
from signaffect.core.dbt_runner import target_dir
cpu = []
inner = model_cache.reuse_or_compute
def timed(*args, **kwargs):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    try:
        return inner(*args, **kwargs)
    finally:
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu.append(after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime)
model_cache.reuse_or_compute = timed
db = Path(sys.argv[1])
unrecorded_dbt("run", db, extra_args=["--select", "{MODEL}"], write_json=True)
results = json.loads((target_dir(db) / "run_results.json").read_text())["results"]
print(json.dumps([sum(r["execution_time"] for r in results), sum(cpu)]))
"""


def _baseline_tree(ref: str, into: Path) -> Path:
    """The files of `ref` (git archive), with this tree's virtualenv beside them."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _timed(tree: Path, db: Path) -> tuple[float, float, float]:
    """Node seconds, the model call's CPU seconds and the process's wall seconds of one
    fresh dbt run of MODEL, run from `tree`."""
    with duckdb.connect(str(db)) as con:
        con.execute(f"drop table if exists main.{MODEL}")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(db)], cwd=tree, check=True, capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    node, cpu = json.loads(done.stdout.strip().splitlines()[-1])
    return float(node), float(cpu), wall


def _differing_rows(this: Path, baseline: Path) -> tuple[int, int, int]:
    """Rows of this side's table, and rows in one table but not the other, each way."""
    with duckdb.connect() as con:
        con.execute(f"attach '{this}' as this (read_only)")
        con.execute(f"attach '{baseline}' as baseline (read_only)")
        columns = "* exclude (inputs_fingerprint)"
        (rows,) = con.execute(f"select count(*) from this.main.{MODEL}").fetchone() or (0,)
        counts = [
            con.execute(
                f"select count(*) from (select {columns} from {a}.main.{MODEL} "
                f"except all select {columns} from {b}.main.{MODEL})"
            ).fetchone()
            for a, b in (("this", "baseline"), ("baseline", "this"))
        ]
    return rows, counts[0][0] if counts[0] else -1, counts[1][0] if counts[1] else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git ref of the baseline tree")
    parser.add_argument("--corpus", type=Path, default=ncslgr_dir())
    parser.add_argument("--db", type=Path, default=None, help="Reuse a built warehouse.")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"threads {os.environ.get('SIGNAFFECT_THREADS', '2')}; load {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench_stats_") as tmp:
        work = Path(tmp)
        source = args.db or work / "built.duckdb"
        if args.db is None:
            ingest_corpus(source, [args.corpus])
            build_warehouse(source)
        trees = {"baseline": _baseline_tree(args.baseline, work / "baseline"), "this": ROOT}
        dbs = {side: work / f"{side}.duckdb" for side in trees}
        for db in dbs.values():
            shutil.copyfile(source, db)
        times: dict[str, list[tuple[float, float, float]]] = {side: [] for side in trees}
        for round_ in range(args.repeat):
            for side in trees:
                times[side].append(_timed(trees[side], dbs[side]))
                node, cpu, wall = times[side][-1]
                print(f"round {round_ + 1} {side:8s}: node {node:6.2f} s, model cpu "
                      f"{cpu:6.2f} s, process wall {wall:6.2f} s; load {os.getloadavg()[0]:.2f}")
        median = {
            side: [statistics.median(t[i] for t in runs) for i in range(3)]
            for side, runs in times.items()
        }
        for side, (node, cpu, wall) in median.items():
            print(f"median {side:8s}: node {node:6.2f} s, model cpu {cpu:6.2f} s, "
                  f"process wall {wall:6.2f} s")
        ratios = [median["this"][i] / median["baseline"][i] for i in range(3)]
        print(f"this / {args.baseline}: node {ratios[0]:.2f}, model cpu {ratios[1]:.2f}, "
              f"process wall {ratios[2]:.2f}")
        rows, only_this, only_baseline = _differing_rows(dbs["this"], dbs["baseline"])
        print(f"{MODEL}: {rows} rows; rows only in this: {only_this}, only in "
              f"{args.baseline}: {only_baseline} (every column but inputs_fingerprint)")
        print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    main()
