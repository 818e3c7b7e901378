"""Benchmark: where the time of one NCSLGR ingest + build goes.

Why: a speed-up starts from a profile, not a guess. In fresh interpreters (each step's
peak RSS is its own) this reports

- Python start-up: `cli.py --help` wall time and the slowest imports (`-X importtime`);
- ingest phases on a fresh warehouse (lexicons, parse, lexicon hits, load into `raw`);
- dbt parse, with dbt's partial parse (as every run after the first has it) and without;
- a full `dbt build` (`cli.py build`'s), per node from dbt's `run_results.json`, then the
  same build again with nothing changed, and with 2 dbt threads beside the default 1.

`--tree DIR` profiles another checkout (e.g. `git archive main | tar -x -C DIR`) with this
interpreter, so two commits compare in one run; `--json FILE` keeps the numbers. dbt runs
through the tree's `pipeline.builds.unrecorded_dbt` (a tree from before it cannot be profiled;
one whose version has no `write_json` gives no per-node times). `--baseline DIR --repeat N`
compares: the fixed costs of each command (`--steps startup,ingest,report`: `cli.py --help`
and `status`, an ingest of `--corpus`, `cli.py report` on the warehouse `--report-db`, which
both trees read; `write_report`: the report step alone, as `cli.py run` ends, in a fresh
interpreter with its modules imported, wall and CPU seconds, its child processes' included)
are measured N times, the two trees alternating, and printed as medians with the ratio to
the baseline; the two trees' last reports are then compared as text (generation time and
PNG bytes aside). Times depend on the machine's load, printed beside them (CPU seconds
less so than wall).

    .venv/bin/python bench/bench_profile.py [--tree DIR] [--top 10] [--json FILE]
    .venv/bin/python bench/bench_profile.py --baseline DIR --steps startup,ingest,report \
        --corpus sample_corpus --report-db warehouse/signaffect.duckdb --repeat 3
    .venv/bin/python bench/bench_profile.py --baseline DIR --steps write_report \
        --report-db /tmp/ncslgr.duckdb --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from signaffect.core.settings import ncslgr_dir

ROOT = Path(__file__).resolve().parents[1]

#: Ingest's steps, timed by wrapping the module attributes the pipeline calls.
INGEST_PHASES = {
    "ingest.corpus": ["parse_files", "texts_from_signstream", "lexicon_hits", "loaded_files",
                      "replace_source_rows"],
    "pipeline.corpus": ["select_lexicons", "connect", "ensure_raw_tables"],
}

INGEST = """
import importlib, json, resource, time
from pathlib import Path
phases = {{}}
def timed(module, name):
    inner = getattr(module, name)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - start
    setattr(module, name, wrapper)
for module_name, names in {phases!r}.items():
    module = importlib.import_module(module_name)
    for name in names:
        timed(module, name)
from pipeline.corpus import ingest_corpus
start = time.perf_counter()
ingest_corpus(Path({db!r}), [{corpus!r}])
phases["total"] = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"phases": phases, "peak_mb": peak}}))
"""

#: dbt through the tree's pipeline, as bench/ may (never the dbt runner itself). A tree
#: whose `unrecorded_dbt` has no `write_json` (before it was added) gives no node times.
DBT = """
import inspect, json, resource, time
from pathlib import Path
from pipeline.builds import unrecorded_dbt
options = {{}}
if {write_json!r} and "write_json" in inspect.signature(unrecorded_dbt).parameters:
    options = {{"write_json": True}}
start = time.perf_counter()
unrecorded_dbt({command!r}, Path({db!r}), extra_args={extra!r}, **options)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": elapsed, "peak_mb": peak, "json": bool(options)}}))
"""


#: The report step alone (`read.report.write_report`), its modules imported first.
WRITE_REPORT = """
import json, resource, time
from pathlib import Path
from read.report import write_report
def cpu():
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime
wall, start = time.perf_counter(), cpu()
write_report(Path({db!r}), Path({out!r}))
print(json.dumps({{"wall": time.perf_counter() - wall, "cpu": cpu() - start}}))
"""


def load() -> float:
    """The machine's 1-minute load average (2 cores: above 2, every timing is inflated)."""
    return os.getloadavg()[0]


def child(tree: Path, code: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `code` in a fresh interpreter inside `tree` (its modules shadow the install)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=tree, capture_output=True,
        text=True, env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def wall(tree: Path, args: list[str]) -> float:
    """Wall seconds of one `cli.py ARGS` in a fresh interpreter inside `tree`."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "cli.py", *args], cwd=tree, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"cli.py {' '.join(args)} failed in {tree}:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def fixed_costs(tree: Path, steps: list[str], corpus: str, report_db: Path | None,
                work: Path) -> dict[str, float]:
    """One measurement of each of `steps` for the checkout at `tree`, in seconds."""
    db = work / f"{tree.name}-{time.monotonic_ns()}.duckdb"
    found: dict[str, float] = {}
    if "ingest" in steps or "startup" in steps:
        found["ingest"] = child(tree, INGEST.format(phases={}, db=str(db),
                                                    corpus=corpus))["phases"]["total"]
    if "startup" in steps:
        found["cli.py --help"] = wall(tree, ["--help"])
        found["cli.py status"] = wall(tree, ["--db", str(db), "status"])
    out = work / f"report-{tree.name}"
    if "report" in steps and report_db is not None:
        found["cli.py report"] = wall(tree, ["--quiet", "--db", str(report_db), "report",
                                             "--out", str(out)])
    if "write_report" in steps and report_db is not None:
        step = child(tree, WRITE_REPORT.format(db=str(report_db), out=str(out)))
        found["write_report"], found["write_report cpu"] = step["wall"], step["cpu"]
    db.unlink(missing_ok=True)
    return {name: found[name] for name in ("cli.py --help", "cli.py status", "ingest",
                                           "cli.py report", "write_report", "write_report cpu")
            if name in found}


def report_text(folder: Path) -> list[str]:
    """A report's two documents as text, without what differs from run to run by design:
    the generation time, and the PNG bytes (data URIs)."""
    texts = []
    for name in ("report.md", "report.html"):
        text = (folder / name).read_text()
        text = re.sub(r"Generated \S+ ", "Generated ", text)
        texts.append(re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", text))
    return texts


def compare(tree: Path, baseline: Path, steps: list[str], corpus: str,
            report_db: Path | None, repeat: int) -> None:
    """Each step's median over `repeat` rounds, the baseline and the tree alternating,
    and the tree's ratio to the baseline."""
    for checkout in (baseline, tree):  # byte-compiled first: a fresh copy's first run is not
        subprocess.run([sys.executable, "-m", "compileall", "-q", "-x", r"\.venv", "."],
                       cwd=checkout, capture_output=True, check=False)
    work = Path(tempfile.mkdtemp(prefix="signaffect-compare-"))
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "tree": []}
    loads = [load()]
    try:
        for _ in range(repeat):
            for name, checkout in (("baseline", baseline), ("tree", tree)):
                runs[name].append(fixed_costs(checkout, steps, corpus, report_db, work))
            loads.append(load())
        reports = [work / f"report-{checkout.name}" for checkout in (baseline, tree)]
        same = (
            report_text(reports[0]) == report_text(reports[1])
            if all((folder / "report.md").exists() for folder in reports)
            else None
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"tree {tree} against baseline {baseline}: median of {repeat} alternating runs; "
          f"corpus {corpus}; 1-min load average (2 cores) "
          f"{', '.join(f'{x:.1f}' for x in loads)}")
    print(f"{'step':<16} {'baseline s':>10} {'tree s':>8} {'ratio':>6}")
    for step in runs["tree"][0]:
        before = statistics.median(run[step] for run in runs["baseline"])
        after = statistics.median(run[step] for run in runs["tree"])
        print(f"{step:<16} {before:>10.2f} {after:>8.2f} {after / before:>6.2f}")
    if same is not None:
        print("report.md and report.html: " + (
            "the same text in both trees (generation time and PNG bytes aside)" if same
            else "THE TEXT DIFFERS between the trees"))


def startup(tree: Path, top: int) -> dict[str, Any]:
    """`cli.py --help` wall time and its slowest top-level imports (cumulative)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "cli.py", "--help"], cwd=tree,
        capture_output=True, text=True,
    )
    wall = time.perf_counter() - start
    cumulative: dict[str, float] = {}
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if found and len(found.group(2)) <= 1:  # top-level imports only
            cumulative[found.group(3)] = int(found.group(1)) / 1e6
    slowest = sorted(cumulative.items(), key=lambda kv: -kv[1])[:top]
    return {"wall": wall, "imports": sum(cumulative.values()), "slowest": slowest}


def node_times(tree: Path) -> list[tuple[str, float]]:
    """(node, seconds) of the last dbt invocation in `tree`, slowest first."""
    # target/ (older trees) or the warehouse's own folder under it (target/warehouses/...)
    newest = max((tree / "target").glob("**/run_results.json"), key=lambda p: p.stat().st_mtime)
    results = json.loads(newest.read_text())["results"]
    times = [(r["unique_id"].split(".", 2)[-1], float(r["execution_time"])) for r in results]
    return sorted(times, key=lambda kv: -kv[1])


def build(tree: Path, db: Path, extra: list[str], env: dict[str, str] | None = None) -> dict:
    """One `dbt build` in a fresh interpreter: wall, peak, and its nodes' times."""
    code = DBT.format(command="build", db=str(db), extra=extra, write_json=True)
    measured = child(tree, code, env)
    nodes = node_times(tree) if measured.pop("json") else []
    return {**measured, "nodes": nodes, "node_sum": sum(s for _, s in nodes)}


def profile(tree: Path, top: int) -> dict[str, Any]:
    """Every measurement of the module docstring, for the checkout at `tree`."""
    corpus = str(ncslgr_dir())
    work = Path(tempfile.mkdtemp(prefix="signaffect-profile-"))
    db = work / "profile.duckdb"
    report: dict[str, Any] = {"tree": str(tree), "load_before": load()}
    report["startup"] = startup(tree, top)
    report["ingest"] = child(tree, INGEST.format(phases=INGEST_PHASES, db=str(db), corpus=corpus))
    parse = DBT.format(command="parse", db=str(db), extra=[], write_json=False)
    child(tree, parse)  # the first parse at this path writes dbt's partial-parse file
    report["parse_partial"] = child(tree, parse)
    report["parse_full"] = child(
        tree,
        DBT.format(command="parse", db=str(db), extra=["--no-partial-parse"], write_json=False),
    )
    report["build"] = build(tree, db, [])
    report["build_again"] = build(tree, db, [])
    report["build_threads2"] = build(tree, db, [], {"SIGNAFFECT_THREADS": "2"})
    report["load_after"] = load()
    shutil.rmtree(work, ignore_errors=True)
    return report


def show(report: dict[str, Any], top: int) -> None:
    """The profile as plain text (nothing is cut when piped)."""
    print(f"tree: {report['tree']}   load before {report['load_before']}, "
          f"after {report['load_after']} (1-min load average, 2 cores)")
    up = report["startup"]
    print(f"\nstart-up: `cli.py --help` {up['wall']:.2f} s wall, "
          f"top-level imports {up['imports']:.2f} s; slowest:")
    for name, seconds in up["slowest"]:
        print(f"  {seconds:6.2f} s  {name}")
    ingest = report["ingest"]
    print(f"\ningest phases (fresh warehouse, peak {ingest['peak_mb']:.0f} MB):")
    for name, seconds in sorted(ingest["phases"].items(), key=lambda kv: -kv[1]):
        print(f"  {seconds:6.2f} s  {name}")
    print(f"\ndbt parse: partial {report['parse_partial']['seconds']:.2f} s, "
          f"full {report['parse_full']['seconds']:.2f} s (wall, incl. dbt start-up)")
    for key, title in (("build", "full build"), ("build_again", "build, nothing changed"),
                       ("build_threads2", "build, nothing changed, 2 threads")):
        run = report[key]
        print(f"\n{title}: {run['seconds']:.2f} s wall, {run['peak_mb']:.0f} MB peak, "
              f"{len(run['nodes'])} nodes, node time {run['node_sum']:.2f} s; top {top}:")
        for name, seconds in run["nodes"][:top]:
            print(f"  {seconds:6.2f} s  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to profile")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="compare the fixed costs of each command with this checkout")
    parser.add_argument("--steps", default="startup,ingest,report",
                        help="with --baseline: which of startup, ingest, report, write_report")
    parser.add_argument("--corpus", default=str(ncslgr_dir()), help="what ingest reads")
    parser.add_argument("--report-db", type=Path, default=None,
                        help="with --baseline: a built and trained warehouse for `report`")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.baseline is not None:
        compare(args.tree.resolve(), args.baseline.resolve(), args.steps.split(","),
                str(Path(args.corpus).resolve()), args.report_db, args.repeat)
        return
    report = profile(args.tree.resolve(), args.top)
    show(report, args.top)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
