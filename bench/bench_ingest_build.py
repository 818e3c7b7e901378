"""Benchmark: ingest + dbt of the full NCSLGR corpus, wall time and peak memory.

Each measurement runs in a fresh subprocess (so peak RSS is its own) on a new warehouse at a
fixed path, as a user re-running the pipeline would (dbt's partial parse stays valid). It
times `dbt build` without tests (seeds and models) and with them (every data test; dbt's
unit tests check SQL, not data, and run in the test suite, as in `cli.py build`). The
baseline, measured in the same run, is the floor no ingest can beat: reading every file and
parsing it with the standard library's ElementTree. Prints seconds, peak MB, ratios to it.

    .venv/bin/python bench/bench_ingest_build.py [--select fct_frame_features+]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from signaffect.core.settings import ncslgr_dir

BASELINE = """
import glob, xml.etree.ElementTree as ET
for path in sorted(glob.glob({corpus!r} + '/*.xml')):
    ET.fromstring(open(path, 'rb').read())
"""

PIPELINE = """
from pathlib import Path
from pipeline.corpus import ingest_corpus
from pipeline.builds import unrecorded_dbt
db = Path({db!r})
ingest_corpus(db, [{corpus!r}])
unrecorded_dbt('build', db, extra_args={extra!r})
"""

MEASURE = """
import resource, sys, time
start = time.perf_counter()
exec(compile(sys.stdin.read(), 'bench', 'exec'))
elapsed = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print({{"seconds": elapsed, "peak_mb": peak_mb}})
"""


def measure(code: str) -> dict[str, float]:
    """Run `code` in a fresh interpreter; return its wall time (after imports) and peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE.format()],
        input=textwrap.dedent(code),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--select", default=None, help="dbt --select (default: everything)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    corpus = str(ncslgr_dir())
    extra = ["--select", args.select, "--indirect-selection", "cautious"] if args.select else []
    base = min(
        (measure(BASELINE.format(corpus=corpus)) for _ in range(args.repeat)),
        key=lambda m: m["seconds"],
    )
    db = Path(tempfile.mkdtemp(prefix="signaffect-bench-")) / "bench.duckdb"
    print(f"corpus: {corpus}  dbt select: {args.select or 'all'}")
    print(f"baseline (read + ElementTree parse): {base['seconds']:.2f} s, {base['peak_mb']:.0f} MB")
    no_tests = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    for command, flags in (("build, no tests", no_tests), ("build", [])):
        runs = []
        for _ in range(args.repeat + 1):  # the first run warms dbt's partial parse
            db.unlink(missing_ok=True)
            code = PIPELINE.format(db=str(db), corpus=corpus, extra=[*extra, *flags])
            runs.append(measure(code))
        best = min(runs[1:], key=lambda m: m["seconds"])
        print(
            f"ingest + dbt {command:<15}: {best['seconds']:6.2f} s, {best['peak_mb']:5.0f} MB  "
            f"(x{best['seconds'] / base['seconds']:.0f} time, "
            f"x{best['peak_mb'] / base['peak_mb']:.0f} memory of the baseline)"
        )
    print("targets (issue 2): ingest + build < 10 s and < 1500 MB on 2 cores")


if __name__ == "__main__":
    main()
