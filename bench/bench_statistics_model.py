"""Benchmark the association mart's build: this tree (exact stratified test) against a
baseline git ref (default `main`: 1,000 within-story permutations), alternately, in one run.

Builds the full-NCSLGR warehouse once with this tree (or reuses `--db`), copies it once per
side (the marts upstream of the association models are the same in both trees), then
`--repeat` times in turn runs, in a fresh Python process whose working directory is each
tree (so its own `signaffect` and dbt project run, through its
`pipeline.builds.unrecorded_dbt`: a baseline from `main` on):

    dbt run --select fct_association_units fct_label_feature_statistics
                     fct_label_feature_associations

with each tree's own dbt vars (its default resamples). Prints each run's wall and CPU
seconds (the child process, DuckDB's threads included), the medians and their ratio, the
machine's load average before and after (the timings are only comparable within a run),
and each side's significant sign-grain pairs. Threads: env SIGNAFFECT_THREADS (default 2).

Usage: .venv/bin/python bench/bench_exact_test.py [--baseline main] [--corpus DIR]
       [--db FILE] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
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
MODELS = ["fct_association_units", "fct_label_feature_statistics", "fct_label_feature_associations"]
_RUN = (
    "import sys; from pathlib import Path; from pipeline.builds import unrecorded_dbt; "
    "unrecorded_dbt('run', Path(sys.argv[1]), extra_args=['--select', *sys.argv[2:]])"
)


def _baseline_tree(ref: str, into: Path) -> Path:
    """The files of `ref` (git archive), with this tree's virtualenv beside them."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _timed(tree: Path, db: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one dbt run of MODELS, run from `tree`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", _RUN, str(db), *MODELS], cwd=tree, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _significant(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select feature_family, feature_kind, count(*), count(*) filter (where q_value < 0.05) "
            "from fct_label_feature_associations where grain = 'sign' group by all order by 1, 2"
        ).fetchall()
    return ", ".join(f"{f}/{k} {sig} of {n}" for f, k, n, sig in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git ref of the baseline tree")
    parser.add_argument("--corpus", type=Path, default=ncslgr_dir())
    parser.add_argument("--db", type=Path, default=None, help="Reuse a built warehouse.")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"threads {os.environ.get('SIGNAFFECT_THREADS', '2')}; load {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench_exact_") as tmp:
        work = Path(tmp)
        source = args.db or work / "built.duckdb"
        if args.db is None:
            ingest_corpus(source, [args.corpus])
            build_warehouse(source)
        trees = {"baseline": _baseline_tree(args.baseline, work / "baseline"), "this": ROOT}
        dbs = {side: work / f"{side}.duckdb" for side in trees}
        for db in dbs.values():
            shutil.copyfile(source, db)
        times: dict[str, list[tuple[float, float]]] = {side: [] for side in trees}
        for round_ in range(args.repeat):
            for side in trees:
                times[side].append(_timed(trees[side], dbs[side]))
                wall, cpu = times[side][-1]
                print(f"round {round_ + 1} {side:8s}: wall {wall:7.1f} s, cpu {cpu:7.1f} s")
        median = {
            side: tuple(statistics.median(t[i] for t in runs) for i in (0, 1))
            for side, runs in times.items()
        }
        for side, (wall, cpu) in median.items():
            print(
                f"median {side:8s}: wall {wall:7.1f} s, cpu {cpu:7.1f} s; sign grain q < .05: "
                f"{_significant(dbs[side])}"
            )
        ratio_wall = median["this"][0] / median["baseline"][0]
        ratio_cpu = median["this"][1] / median["baseline"][1]
        print(f"this / {args.baseline}: wall {ratio_wall:.2f}, cpu {ratio_cpu:.2f}")
        print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    main()
