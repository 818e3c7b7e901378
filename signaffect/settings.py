"""Where things live: the warehouse file, the corpora and the dbt project, each overridable."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
SAMPLE_CORPUS_DIR = PROJECT_DIR / "sample_corpus"
DEFAULT_DB_PATH = PROJECT_DIR / "warehouse" / "signaffect.duckdb"
ARTIFACTS_DIR = PROJECT_DIR / "artifacts"


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: an explicit path, else env SIGNAFFECT_DB, else the project default."""
    chosen = explicit or os.environ.get("SIGNAFFECT_DB")
    return Path(chosen).expanduser().resolve() if chosen else DEFAULT_DB_PATH


def _shared_dir(env: str, name: str) -> Path:
    chosen = os.environ.get(env)
    if chosen:
        return Path(chosen).expanduser().resolve()
    return (PROJECT_DIR.parent / "shared" / name).resolve()


def ncslgr_dir() -> Path:
    """The real NCSLGR corpus: env NCSLGR_DIR, else ../shared/ncslgr-xml beside the project."""
    return _shared_dir("NCSLGR_DIR", "ncslgr-xml")


def elan_samples_dir() -> Path:
    """Real ELAN and DAI 2 samples: env ELAN_SAMPLES_DIR, else ../shared/elan-samples."""
    return _shared_dir("ELAN_SAMPLES_DIR", "elan-samples")


def memory_config() -> dict[str, str]:
    """DuckDB's memory cap from env SIGNAFFECT_MEMORY_LIMIT (e.g. `2GB`), if set: past it
    DuckDB spills to disk instead of failing (profiles.yml reads the same variable)."""
    limit = os.environ.get("SIGNAFFECT_MEMORY_LIMIT")
    return {"memory_limit": limit} if limit else {}
