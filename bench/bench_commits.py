"""Benchmark: this checkout against earlier commits, whole `cli.py` processes, alternating.

Why: the machine is shared, so absolute seconds drift with the load; commits measured in
turn, in the same run, give ratios that hold. Each commit is written with `git archive`
into a temporary folder (no worktree or branch is touched) and run with this interpreter;
each keeps its own warehouse path, and a `dbt parse` first leaves a valid partial parse,
as a user's every run after the first has it. `--repeat` rounds; medians of wall time,
CPU time (user + system of the process and its children) and peak RSS.

Scenarios (`--scenario`, several allowed):
- `ncslgr`: `cli.py --quiet --db X run NCSLGR --no-train` on a fresh warehouse;
- `rebuild`: `cli.py --quiet --db X build` with nothing changed since the last build
  (after `ncslgr` when both are asked: its warehouse);
- `sample`: `cli.py --quiet --db X run` (the bundled sample, training and report) on a
  fresh warehouse.

    .venv/bin/python bench/bench_commits.py [--against 204734d --against main]
        [--scenario ncslgr] [--repeat 3]
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
from dataclasses import dataclass, field
from pathlib import Path

from signaffect.core.settings import ncslgr_dir

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Tree:
    """A checkout under test and what was measured in it, per scenario."""

    name: str
    path: Path
    db: Path
    runs: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)


def archive(repo: Path, commit: str, target: Path) -> Path:
    """Write `commit`'s files into `target` (git archive: no worktree, no branch)."""
    target.mkdir(parents=True)
    tar = subprocess.run(["git", "-C", str(repo), "archive", commit], capture_output=True,
                         check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=tar.stdout, check=True)
    return target


def run_cli(tree: Tree, args: list[str]) -> tuple[float, float, float]:
    """`cli.py --quiet --db DB ARGS` in `tree`: wall s, CPU s (user + system), peak MB."""
    command = [sys.executable, "cli.py", "--quiet", "--db", str(tree.db), *args]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=tree.path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{tree.name}: {' '.join(args)} failed:\n{error[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


WARM_PARSE = """
import json, sys
from pathlib import Path
try:  # the tree's pipeline runs dbt for bench/, as its runs call it (target folder, vars)
    from pipeline.builds import unrecorded_dbt
except ImportError:
    try:  # the same, before pipeline/ left signaffect/
        from signaffect.pipeline.builds import unrecorded_dbt
    except ImportError:  # older: dbt's own parse, the warehouse as its profile reads it
        unrecorded_dbt = None
if unrecorded_dbt is not None:
    unrecorded_dbt("parse", Path(sys.argv[1]))
else:
    from dbt.cli.main import dbtRunner
    args = ["--log-level", "none", "parse", "--project-dir", ".", "--profiles-dir", "."]
    if sys.argv[2] == "var":
        args += ["--vars", json.dumps({"signaffect_db": sys.argv[1]})]
    try:  # a branch commit with a target folder per warehouse but no pipeline dbt call
        from signaffect.core.dbt_runner import target_dir
        args += ["--target-path", str(target_dir(Path(sys.argv[1])))]
    except ImportError:
        pass
    dbtRunner().invoke(args)
"""


def warm(tree: Tree) -> None:
    """`dbt parse` in `tree` as its runs call dbt, so that every timed run finds a valid
    partial parse, as a user's second run does: the warehouse goes in as the var
    `signaffect_db` where profiles.yml reads it, else (older commits) as env SIGNAFFECT_DB."""
    how = "var" if "var('signaffect_db'" in (tree.path / "profiles.yml").read_text() else "env"
    env = {**os.environ, "SIGNAFFECT_DB": str(tree.db)}
    subprocess.run([sys.executable, "-c", WARM_PARSE, str(tree.db), how], cwd=tree.path,
                   check=True, capture_output=True, env=env)


def fresh(tree: Tree) -> None:
    """Remove the tree's warehouse, its write-ahead log and its spill folder."""
    for path in (tree.db, Path(f"{tree.db}.wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(f"{tree.db}.tmp", ignore_errors=True)


def measure(tree: Tree, scenario: str) -> tuple[float, float, float]:
    """One timed run of `scenario` in `tree` (set-up steps are not timed)."""
    if scenario == "ncslgr":
        fresh(tree)
        return run_cli(tree, ["run", str(ncslgr_dir()), "--no-train"])
    if scenario == "rebuild":
        if not tree.db.exists():
            run_cli(tree, ["run", str(ncslgr_dir()), "--no-train"])
        return run_cli(tree, ["build"])
    if scenario == "sample":
        fresh(tree)
        return run_cli(tree, ["run", "--out", str(tree.db.parent / f"{tree.name}-report")])
    raise SystemExit(f"unknown scenario {scenario!r}: ncslgr, rebuild or sample")


def report(trees: list[Tree], scenario: str, loads: list[float]) -> None:
    """Medians per tree and the ratio of this checkout to each other commit."""
    head = trees[-1]
    print(f"\n{scenario}: medians of {len(head.runs[scenario])} runs; 1-min load during the "
          f"runs {min(loads):.1f}-{max(loads):.1f} (2 cores)")
    print(f"{'commit':<24} {'wall s':>7} {'CPU s':>7} {'peak MB':>8}")
    medians = {}
    for tree in trees:
        runs = tree.runs[scenario]
        medians[tree.name] = [statistics.median(r[i] for r in runs) for i in range(3)]
        wall, cpu, peak = medians[tree.name]
        print(f"{tree.name:<24} {wall:>7.1f} {cpu:>7.1f} {peak:>8.0f}")
    for tree in trees[:-1]:
        ratio = [h / b for h, b in zip(medians[head.name], medians[tree.name], strict=True)]
        print(f"{'ratio to ' + tree.name:<24} {ratio[0]:>6.2f}x {ratio[1]:>6.2f}x "
              f"{ratio[2]:>7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", action="append", default=None,
                        help="a commit to compare with (repeatable; default 204734d)")
    parser.add_argument("--scenario", action="append", default=None,
                        help="ncslgr (default), rebuild or sample; repeatable")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repo", type=Path, default=ROOT,
                        help="the git repository the commits are taken from (default: this one)")
    args = parser.parse_args()
    scenarios = args.scenario or ["ncslgr"]
    work = Path(tempfile.mkdtemp(prefix="signaffect-commits-"))
    try:
        trees = [Tree(c, archive(args.repo, c, work / f"tree-{i}"), work / f"tree-{i}.duckdb")
                 for i, c in enumerate(args.against or ["204734d"])]
        trees.append(Tree("this checkout", ROOT, work / "head.duckdb"))
        for tree in trees:
            warm(tree)
        for scenario in scenarios:
            loads = []
            for _ in range(args.repeat):
                for tree in trees:
                    loads.append(os.getloadavg()[0])
                    tree.runs.setdefault(scenario, []).append(measure(tree, scenario))
            report(trees, scenario, loads)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
