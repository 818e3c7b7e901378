"""Every corpus file builds alone: each is ingested into a fresh warehouse and built with
every data test (`cli.py build`); prints each file's result and build time, then how many
built, and exits 1 if any did not.

One build per file (38 on NCSLGR, some 20 to 60 s each) is too long for CI, where
tests/test_corpus_subsets.py builds a seeded sample of single files, pairs and triples.

    .venv/bin/python bench/build_every_file.py [CORPUS_DIR] [--resamples N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from ingest.signstream import expand_paths
from pipeline.corpus import build_warehouse, ingest_corpus
from signaffect.core.errors import SignAffectError
from signaffect.core.settings import ncslgr_dir


def build_alone(path: Path, folder: Path, resamples: int) -> str | None:
    """Ingest and build `path` alone in `folder`; None when every data test passed, else why."""
    db = folder / "warehouse.duckdb"
    try:
        ingest_corpus(db, [path])
        build_warehouse(db, dbt_vars={"association_resamples": resamples})
    except SignAffectError as exc:
        return exc.message
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=ncslgr_dir())
    parser.add_argument(
        "--resamples", type=int, default=200, help="association bootstrap draws per build"
    )
    args = parser.parse_args()
    files = expand_paths([args.corpus])
    failed = 0
    for number, path in enumerate(files, start=1):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            problem = build_alone(path, Path(folder), args.resamples)
        seconds = time.perf_counter() - start
        failed += problem is not None
        verdict = "built" if problem is None else f"FAILED: {problem}"
        print(f"{number:>3}/{len(files)} {path.name}: {verdict} ({seconds:.0f} s)", flush=True)
    print(f"{len(files) - failed} of {len(files)} files built alone")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
