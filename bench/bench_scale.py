"""Benchmark: ingest and build of NCSLGR replicated 1x, 4x and 10x, wall time and peak memory.

Why: a build whose memory grows with the corpus cannot reach corpora 100-1,000 times larger.
Each size is a new corpus in a temporary folder (every file copied k times under new names,
with a comment that makes each copy's content hash its own) and a new warehouse; ingest and
build each run in a fresh interpreter, so peak RSS (DuckDB included) is that step's own.
Ratios are to the 1x corpus measured in the same run (the machine may be shared).

    .venv/bin/python bench/bench_scale.py [--sizes 1,4,10]

Targets (issue 24, 2 cores): 10x wall time <= 6x the 1x time and peak <= 3.5 GB; 1x peak
<= 1 GB; 1x ingest + build <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from signaffect.core.settings import DBT_TARGETS_DIR, ncslgr_dir

STEP = """
import json, resource, sys, time
from pathlib import Path
{imports}
db = Path({db!r})
start = time.perf_counter()
{call}
elapsed = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": elapsed, "peak_mb": peak_mb}}))
"""

STEPS = {
    "ingest": (
        "from pipeline.corpus import ingest_corpus",
        "ingest_corpus(db, [{corpus!r}])",
    ),
    # run_results.json too (each node's time: which step grows faster than the corpus)
    "build": (
        "from pipeline.corpus import build_warehouse", "build_warehouse(db, write_json=True)"
    ),
    "parse": ("from pipeline.builds import unrecorded_dbt", "unrecorded_dbt('parse', db)"),
}


def measure(step: str, db: Path, corpus: Path | None = None) -> dict[str, float]:
    """Run one step in a fresh interpreter; its wall time (after imports) and peak RSS."""
    imports, call = STEPS[step]
    code = STEP.format(imports=imports, db=str(db), call=call.format(corpus=str(corpus)))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def replicate(source: Path, target: Path, copies: int) -> int:
    """Write every XML file of `source` `copies` times into `target` under new names."""
    target.mkdir(parents=True)
    files = sorted(source.glob("*.xml"))
    for copy in range(copies):
        for path in files:
            name = path.name if copy == 0 else f"{path.stem}-copy{copy}{path.suffix}"
            data = path.read_bytes()
            if copy:
                data += f"\n<!-- SignAffect bench_scale copy {copy} -->\n".encode()
            (target / name).write_bytes(data)
    return len(files) * copies


def frame_count(db: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("select count(*) from fct_frames").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,4,10", help="replication factors, comma-separated")
    parser.add_argument("--top", type=int, default=12, help="dbt nodes to list by growth")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    root = Path(tempfile.mkdtemp(prefix="signaffect-scale-"))
    try:
        # One warehouse path for every size: dbt keeps its partial parse per path, so each
        # build has it, as any run after the first does.
        db = root / "scale.duckdb"
        measure("parse", db)
        rows, nodes = [], []
        for size in sizes:
            corpus = root / f"corpus-{size}x"
            n_files = replicate(ncslgr_dir(), corpus, size)
            ingest = measure("ingest", db, corpus)
            build = measure("build", db)
            nodes.append(node_times())
            rows.append((size, n_files, frame_count(db), ingest, build, db.stat().st_size))
            shutil.rmtree(corpus)
            db.unlink()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print_table(rows)
    print_growth(sizes, nodes, args.top)


def node_times() -> dict[str, float]:
    """Each dbt node's seconds in the last build (the newest run_results.json of this
    checkout's dbt targets)."""
    newest = max(DBT_TARGETS_DIR.glob("*/run_results.json"), key=lambda p: p.stat().st_mtime)
    results = json.loads(newest.read_text())["results"]
    return {r["unique_id"].split(".", 2)[-1]: float(r["execution_time"]) for r in results}


def print_growth(sizes: list[int], nodes: list[dict[str, float]], top: int) -> None:
    """The slowest nodes of the largest build, each with its time at every size and its
    growth against the corpus's (a ratio above the size's is a super-linear step)."""
    print(f"\nslowest {top} dbt nodes at {sizes[-1]}x (seconds per size; growth = "
          f"{sizes[-1]}x / {sizes[0]}x, the corpus grew {sizes[-1] / sizes[0]:g}x):")
    for name, last in sorted(nodes[-1].items(), key=lambda kv: -kv[1])[:top]:
        times = " ".join(f"{run.get(name, 0.0):7.2f}" for run in nodes)
        first = nodes[0].get(name, 0.0)
        growth = f"{last / first:6.1f}x" if first > 0 else "     -"
        print(f"  {times}  {growth}  {name}")


def print_table(rows: list) -> None:
    base = rows[0]
    base_s = base[3]["seconds"] + base[4]["seconds"]
    base_mb = max(base[3]["peak_mb"], base[4]["peak_mb"])
    header = (
        f"{'size':>4} {'files':>5} {'frames':>9} {'ingest s':>8} {'ingest MB':>9} "
        f"{'build s':>7} {'build MB':>8} {'total s':>7} {'db MB':>6} {'time x':>6} {'mem x':>5}"
    )
    print(header)
    print("-" * len(header))
    for size, n_files, frames, ingest, build, db_bytes in rows:
        total = ingest["seconds"] + build["seconds"]
        peak = max(ingest["peak_mb"], build["peak_mb"])
        print(
            f"{size:>3}x {n_files:>5} {frames:>9,} {ingest['seconds']:>8.1f} "
            f"{ingest['peak_mb']:>9.0f} {build['seconds']:>7.1f} {build['peak_mb']:>8.0f} "
            f"{total:>7.1f} {db_bytes / 2**20:>6.0f} {total / base_s:>6.2f} {peak / base_mb:>5.2f}"
        )
    last = rows[-1]
    last_s = last[3]["seconds"] + last[4]["seconds"]
    last_mb = max(last[3]["peak_mb"], last[4]["peak_mb"])
    print(
        f"targets: 1x ingest + build <= 10 s: {'yes' if base_s <= 10 else 'NO'} ({base_s:.1f} s); "
        f"1x peak <= 1024 MB: {'yes' if base_mb <= 1024 else 'NO'} ({base_mb:.0f} MB); "
        f"{last[0]}x peak <= 3584 MB: {'yes' if last_mb <= 3584 else 'NO'} ({last_mb:.0f} MB); "
        f"{last[0]}x time <= 6x 1x: {'yes' if last_s <= 6 * base_s else 'NO'} "
        f"({last_s / base_s:.2f}x); 1-min load at the end {os.getloadavg()[0]:.1f} (2 cores)"
    )


if __name__ == "__main__":
    main()
