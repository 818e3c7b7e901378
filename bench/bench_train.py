"""Benchmark: collapsed-row training vs a plain per-frame random forest, in the same run.

Runs the same cross-validation twice on the full NCSLGR corpus (env NCSLGR_DIR, default
../shared/ncslgr-xml): once the way `cli.py train` does it (identical frames collapsed
into weighted rows, see ml/collapse.py and ml/bagging.py) and once with a plain
RandomForestClassifier fit on every frame. Both use the same folds, seed and forest
settings (ml/bagging.py grows the plain fit's own trees, so the scores should match
exactly); only the CV (fit, predict, score) is timed, loading is shared. Prints the
wall-time ratio (target >= 10x) and the micro-F1 difference (target within 0.02). The
process CPU time ratio is printed too: on a shared machine it is the steadier of the two.

    .venv/bin/python bench/bench_train.py                  # ingest + build a temp warehouse
    .venv/bin/python bench/bench_train.py --db /tmp/x.duckdb   # reuse a built warehouse
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ml.collapse import unique_rows
from ml.data import load_matrix
from ml.metrics import Report
from ml.model import ForestSettings
from ml.splits import CV
from ml.train import TrainConfig, cross_validate
from signaffect.pipeline import build_warehouse, ingest_corpus
from signaffect.settings import ncslgr_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a built warehouse (default: build a temp one)")
    parser.add_argument("--cv", default="kfold", choices=[c.value for c in CV])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    db = args.db
    if db is None:
        db = Path(tempfile.mkdtemp(prefix="signaffect-bench-")) / "bench.duckdb"
        started = time.perf_counter()
        ingest_corpus(db, [ncslgr_dir()])
        build_warehouse(db)
        print(f"built {db} from {ncslgr_dir()} in {time.perf_counter() - started:.0f}s")

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
        outcome = cross_validate(matrix, config, rows=rows)
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


if __name__ == "__main__":
    main()
