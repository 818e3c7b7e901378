"""Benchmark: the default `cli.py train` on NCSLGR, this checkout against a base, alternating.

The base (default `main`) is exported into a temporary folder (`git archive`); each round runs
`cli.py --quiet --db COPY train` once from the base and once from this checkout (order
alternating from round to round), each in its own process on its own copy of the
warehouse, and reports the whole process's wall time, CPU time (user + system, the
steadier number on a shared machine) and peak resident memory (`ru_maxrss`, what
`/usr/bin/time -v` calls "Maximum resident set size"), then the medians and the ratios
after / before. The 1-minute load average is printed before each run: on a shared machine
say it beside every number.

It then checks that nothing but the time changed: the final forests saved by the last run
of each are equal tree for tree (features, thresholds, node values), and every row the two
runs wrote to the warehouse's run tables (ml_runs with the verdict, ml_label_metrics,
ml_fold_metrics, ml_feature_importance, ml_oof_predictions with every out-of-fold score) is
the same, but for the run id, its time and its duration. Targets (issue 24): default train
on NCSLGR <= 60 s wall, <= 1.1 GB; on the 5-story sample, a few seconds.

    .venv/bin/python bench/bench_train_default.py --db /tmp/ncslgr.duckdb
    .venv/bin/python bench/bench_train_default.py --base 247a436 --rounds 3
    .venv/bin/python bench/bench_train_default.py --db /tmp/sample.duckdb  # `run --no-train`
    .venv/bin/python bench/bench_train_default.py --db /tmp/sample.duckdb --run --rounds 3

With `--run` each process is README's main job instead, `cli.py run` on the bundled sample
(ingest, build, the story-grouped and the KFold training, the report) on a copy of a built
warehouse, "after set-up" (target: <= 15 s); both runs' rows are compared, and the story
run's forest (the KFold run takes it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from ml.results import load_model

HERE = Path(__file__).resolve().parents[1]
#: The tables a run writes, each with the columns that may differ between two runs.
RUN_TABLES = {
    "ml_runs": ("run_id", "created_at", "duration_s"),
    "ml_label_metrics": ("run_id",),
    "ml_fold_metrics": ("run_id",),
    "ml_feature_importance": ("run_id",),
    "ml_oof_predictions": ("run_id",),
}

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a built NCSLGR warehouse")
    parser.add_argument("--base", default="main", help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=1, help="before/after pairs")
    parser.add_argument("--run", action="store_true",
                        help="time `cli.py run` (the main job on the sample), not `train`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        work = Path(tmp)
        base = _export(args.base, work / "base")
        results = _rounds(args.db, {"before": base, "after": HERE}, args.rounds, work,
                          args.run)
        _summary(results)
        _same(results)


def _export(commit: str, folder: Path) -> Path:
    """The files of `commit` in `folder` (`git archive`: no worktree, the repository's
    metadata untouched)."""
    folder.mkdir()
    archive = subprocess.Popen(["git", "-C", str(HERE), "archive", commit],
                               stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(folder)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise SystemExit(f"git archive {commit} failed")
    return folder


@dataclass(frozen=True)
class Result:
    """One run: whole-process wall and CPU seconds, peak GB, the load before it, its files."""

    wall: float
    cpu: float
    peak: float
    load: float
    db: Path
    artifacts: Path


def _rounds(
    db: Path, code: dict[str, Path], rounds: int, work: Path, main_job: bool
) -> dict[str, list[Result]]:
    """Run both versions `rounds` times each, alternating which goes first."""
    results: dict[str, list[Result]] = {name: [] for name in code}
    for round_ in range(rounds):
        order = list(code) if round_ % 2 == 0 else list(reversed(code))
        for name in order:
            results[name].append(
                _one(name, code[name], db, work / f"{name}-{round_}", main_job)
            )
    return results


def _one(name: str, checkout: Path, db: Path, folder: Path, main_job: bool) -> Result:
    """One `cli.py train` (or `run`) in a fresh process on a fresh copy of the warehouse."""
    folder.mkdir(parents=True)
    copy = folder / "w.duckdb"
    shutil.copy(db, copy)
    load = os.getloadavg()[0]
    command = [sys.executable, "cli.py", "--quiet", "--db", str(copy)] + (
        ["run", "--out", str(folder / "report")] if main_job
        else ["train", "--artifacts-dir", str(folder / "artifacts")]
    )
    errors = folder / "stderr.txt"
    started = time.perf_counter()
    with errors.open("wb") as stderr:  # cli.py in the checkout's folder imports its code
        child = subprocess.Popen(command, cwd=checkout, stdout=subprocess.DEVNULL,
                                 stderr=stderr, env={**os.environ, "PYTHONPATH": ""})
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{name} failed: {errors.read_text()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss * 1024 / 1e9
    print(f"{name:>6}: {wall:6.1f} s wall {cpu:6.1f} s cpu  peak {peak:.2f} GB  "
          f"(1-min load before: {load:.1f} on {os.cpu_count()} cores)", flush=True)
    return Result(wall, cpu, peak, load, copy, _artifacts(copy, checkout) if main_job
                  else next((folder / "artifacts").iterdir()))


def _artifacts(db: Path, checkout: Path) -> Path:
    """The folder of the story run's model: `cli.py run` saves under the checkout."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        run_id = con.execute("select run_id from ml_runs where cv = 'story'").fetchall()[0][0]
    finally:
        con.close()
    return checkout / "artifacts" / str(run_id)


def _summary(results: dict[str, list[Result]]) -> None:
    median = {
        name: {k: statistics.median(getattr(r, k) for r in runs) for k in ("wall", "cpu", "peak")}
        for name, runs in results.items()
    }
    for key, unit in (("wall", "s"), ("cpu", "s"), ("peak", "GB")):
        before, after = median["before"][key], median["after"][key]
        print(f"{key:>5}: before {before:.2f} {unit}, after {after:.2f} {unit}, "
              f"after/before {after / before:.2f}x")
    loads = [r.load for runs in results.values() for r in runs]
    print(f"load average during the runs: {min(loads):.1f} to {max(loads):.1f} "
          f"(2-core targets: <= 60 s wall, <= 1.1 GB)")


def _same(results: dict[str, list[Result]]) -> None:
    """The last run of each: same final forest, same scores, verdict and importances."""
    before, after = results["before"][-1], results["after"][-1]
    forests = [load_model(r.artifacts) for r in (before, after)]
    same_trees = len(forests[0].estimators_) == len(forests[1].estimators_) and all(
        np.array_equal(a.tree_.feature, b.tree_.feature)
        and np.array_equal(a.tree_.threshold, b.tree_.threshold)
        and np.array_equal(a.tree_.value, b.tree_.value)
        for a, b in zip(forests[0].estimators_, forests[1].estimators_, strict=True)
    )
    print(f"final forest identical tree for tree: {same_trees}")
    con = duckdb.connect()
    try:
        for alias, result in (("before", before), ("after", after)):
            con.execute(f"attach '{result.db}' as {alias} (read_only)")
        for table, skipped in RUN_TABLES.items():
            columns = f"* exclude ({', '.join(skipped)})"
            rows, differing = con.execute(
                f"select (select count(*) from after.{table}), count(*) from ("
                f"(select {columns} from before.{table} except all "
                f"select {columns} from after.{table}) union all "
                f"(select {columns} from after.{table} except all "
                f"select {columns} from before.{table}))"
            ).fetchall()[0]
            print(f"{table}: {rows} rows, identical but for the run id and time: "
                  f"{differing == 0}" + ("" if differing == 0 else f" ({differing} differ)"))
    finally:
        con.close()


if __name__ == "__main__":
    main()
