"""Benchmark: training's peak memory before and after, and collapsed vs plain per-frame speed.

Memory (first): the same CV and final fit run in two fresh child processes, each
reporting its own peak resident memory (`ru_maxrss`, what `/usr/bin/time -v` calls
"Maximum resident set size"). "before" is the old way, replayed here: each fold's whole
forest, the next one grown while the last is still referenced, and the final forest
saved in one skops file. "after" is `cli.py train`'s way: a few trees at a time
(ml.lookup, ml.model.TREES_IN_MEMORY), the final forest saved in parts. Both pooled
per-label reports are printed as equal or not: the predictions must not change.

Speed (then, unless --memory-only): runs the same cross-validation twice on the full
NCSLGR corpus (env NCSLGR_DIR, default ../shared/ncslgr-xml): once the way `cli.py
train` does it (identical frames collapsed into weighted rows, see ml/collapse.py and
ml/bagging.py) and once with a plain
RandomForestClassifier fit on every frame. Both use the same folds, seed and forest
settings (ml/bagging.py grows the plain fit's own trees, so the scores should match
exactly); only the CV (fit, predict, score) is timed, loading is shared. Prints the
wall-time ratio (target >= 10x) and the micro-F1 difference (target within 0.02). The
process CPU time ratio is printed too: on a shared machine it is the steadier of the two.

    .venv/bin/python bench/bench_train.py                  # ingest + build a temp warehouse
    .venv/bin/python bench/bench_train.py --db /tmp/x.duckdb   # reuse a built warehouse
    .venv/bin/python bench/bench_train.py --cv story --memory-only
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import skops.io as sio

from ml.collapse import collapse_frames, unique_rows
from ml.data import load_matrix
from ml.metrics import Report, score
from ml.model import fit_forest_on_rows, predict
from ml.options import ForestSettings
from ml.results import save_model
from ml.splits import CV, plan_folds
from ml.train import TrainConfig, cross_validate, final_fit
from pipeline.corpus import build_warehouse, ingest_corpus
from signaffect.core.settings import ncslgr_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a built warehouse (default: build a temp one)")
    parser.add_argument("--cv", default="kfold", choices=[c.value for c in CV])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-only", action="store_true", help="skip the speed comparison")
    args = parser.parse_args()

    db = args.db
    if db is None:
        db = Path(tempfile.mkdtemp(prefix="signaffect-bench-")) / "bench.duckdb"
        started = time.perf_counter()
        ingest_corpus(db, [ncslgr_dir()])
        build_warehouse(db)
        print(f"built {db} from {ncslgr_dir()} in {time.perf_counter() - started:.0f}s")

    config = TrainConfig(cv=CV(args.cv), folds=args.folds,
                         forest=ForestSettings(n_estimators=args.trees, seed=args.seed))
    peaks: dict[str, int] = {}
    forest_reports: dict[str, Report] = {}
    spawn = multiprocessing.get_context("spawn")
    for name, target in (("before", whole_forests), ("after", few_trees_at_a_time)):
        queue = spawn.Queue()
        child = spawn.Process(target=target, args=(db, config, queue))
        child.start()
        peaks[name], forest_reports[name], seconds = queue.get()
        child.join()
        print(f"memory {name:>6}: peak {_gb(peaks[name]):.2f} GB in {seconds:.0f}s "
              f"({args.trees} trees, --cv {args.cv}, CV + final fit + saved model)")
    print(f"peak memory: {_gb(peaks['before']):.2f} GB -> {_gb(peaks['after']):.2f} GB "
          f"(target < 1.5 GB): {'ok' if _gb(peaks['after']) < 1.5 else 'MISSED'}")
    print(f"predictions unchanged (pooled per-label reports equal): "
          f"{forest_reports['before'] == forest_reports['after']}")
    if args.memory_only:
        return

    matrix = load_matrix(db)
    rows = unique_rows(matrix.X, matrix.Y)
    settings = matrix.settings
    print(
        f"matrix: {matrix.n_frames} frames, {rows.n_unique} distinct rows "
        f"({matrix.n_frames / rows.n_unique:.1f}x fewer), {len(matrix.feature_names)} inputs "
        f"({', '.join(settings.input_kinds)}), {len(matrix.label_names)} labels "
        f"(kind {settings.target_kind}, scope {settings.lexical_scope})"
    )
    if settings.target_kind != "lexical":
        print(f"NOTE: labels are the stand-in kind {settings.target_kind!r}, not lexical")

    forest = ForestSettings(n_estimators=args.trees, seed=args.seed)
    wall: dict[str, list[float]] = {"collapsed": [], "plain per-frame": []}
    cpu: dict[str, list[float]] = {"collapsed": [], "plain per-frame": []}
    reports: dict[str, Report] = {}
    # The collapsed run goes before and after the plain one and the two are averaged, so a
    # neighbour's load that comes and goes during the long plain fit does not favour either.
    for name in ("collapsed", "plain per-frame", "collapsed"):
        config = TrainConfig(cv=CV(args.cv), folds=args.folds, forest=forest,
                             collapse=name == "collapsed")
        started, started_cpu = time.perf_counter(), time.process_time()
        outcome = cross_validate(matrix, config, rows=rows, importance=False)
        wall[name].append(time.perf_counter() - started)
        cpu[name].append(time.process_time() - started_cpu)
        report = reports[name] = outcome.reports["random_forest"]
        print(
            f"{name:>16}: {wall[name][-1]:7.1f}s wall {cpu[name][-1]:7.1f}s cpu  "
            f"{outcome.plan.n_folds} folds {args.cv}  "
            f"micro P/R/F1 {report.averages['micro'].precision:.3f}/"
            f"{report.averages['micro'].recall:.3f}/{report.averages['micro'].f1:.3f}  "
            f"weighted F1 {report.averages['weighted'].f1:.3f}  "
            f"(stratified micro-F1 {outcome.reports['stratified'].averages['micro'].f1:.3f})"
        )
    timings = {name: statistics.mean(runs) for name, runs in wall.items()}
    cpu_time = {name: statistics.mean(runs) for name, runs in cpu.items()}
    micro = {name: report.averages["micro"].f1 for name, report in reports.items()}
    ratio = timings["plain per-frame"] / timings["collapsed"]
    diff = micro["collapsed"] - micro["plain per-frame"]
    cpu_ratio = cpu_time["plain per-frame"] / cpu_time["collapsed"]
    print(f"speed-up: {ratio:.1f}x wall, {cpu_ratio:.1f}x cpu (target >= 10x): "
          f"{'ok' if ratio >= 10 else 'MISSED'}")
    print(f"micro-F1 difference: {diff:+.4f} (target within 0.02): "
          f"{'ok' if abs(diff) <= 0.02 else 'MISSED'}")
    print(f"per-label reports identical: {reports['collapsed'] == reports['plain per-frame']}")


def whole_forests(db: Path, config: TrainConfig, queue: multiprocessing.Queue) -> None:
    """The old way (before): whole fold forests, the final forest dumped in one file."""
    started = time.perf_counter()
    matrix = load_matrix(db)
    rows = unique_rows(matrix.X, matrix.Y)
    groups = {CV.story: matrix.story, CV.signer: matrix.signer, CV.utterance: matrix.utterance}
    plan = plan_folds(config.cv, config.folds, config.forest.seed, matrix.n_frames, groups)
    pooled = []
    for train, test in plan.splits:
        # As before: the last fold's forest is freed only once the next one is assigned.
        forest = fit_forest_on_rows(config.forest, rows, train)
        te_rows, te_weight = collapse_frames(rows, test)
        pooled.append((rows.Y[te_rows], predict(forest, rows.X[te_rows]), te_weight))
    del forest
    final = fit_forest_on_rows(config.forest, rows, np.arange(matrix.n_frames))
    with tempfile.TemporaryDirectory() as folder:
        sio.dump(final, Path(folder) / "model.skops", compression=zipfile.ZIP_DEFLATED,
                 compresslevel=1)
    y_true, y_pred, weight = (np.concatenate([p[i] for p in pooled]) for i in range(3))
    report = score(y_true, y_pred, matrix.label_names, weight)
    queue.put((_peak_kb(), report, time.perf_counter() - started))


def few_trees_at_a_time(db: Path, config: TrainConfig, queue: multiprocessing.Queue) -> None:
    """`cli.py train`'s way (after): CV with held-out importances, final forest in parts."""
    started = time.perf_counter()
    matrix = load_matrix(db)
    rows = unique_rows(matrix.X, matrix.Y)
    outcome = cross_validate(matrix, config, rows=rows)
    with tempfile.TemporaryDirectory() as folder:
        final_fit(matrix, config, rows, lambda model, part: save_model(Path(folder), model, part))
    report = outcome.reports[outcome.oof.model]
    queue.put((_peak_kb(), report, time.perf_counter() - started))


def _gb(kib: int) -> float:
    """KiB as decimal gigabytes, the unit `/usr/bin/time -v` readings are quoted in."""
    return kib * 1024 / 1e9


def _peak_kb() -> int:
    """This process's peak resident memory in KiB (Linux ru_maxrss)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if __name__ == "__main__":
    main()
