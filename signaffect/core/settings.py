"""Where things live: the warehouse file, the corpora and the dbt project, each overridable."""

from __future__ import annotations

import os
from pathlib import Path

from signaffect.core.errors import SignAffectError

PROJECT_DIR = Path(__file__).resolve().parents[2]
SAMPLE_CORPUS_DIR = PROJECT_DIR / "sample_corpus"
DEFAULT_DB_PATH = PROJECT_DIR / "warehouse" / "signaffect.duckdb"
ARTIFACTS_DIR = PROJECT_DIR / "artifacts"
# Project files Python reads by path rather than through dbt, each named here only
# (tests/test_floors.py checks that they exist and that no other module builds such a path).
#: dbt's vars and their defaults (`signaffect.core.build_settings` reads them).
DBT_PROJECT_FILE = PROJECT_DIR / "dbt_project.yml"
#: The media-name rule, a dbt macro that `ingest.fer` renders to match video files.
MEDIA_NAME_MACRO_FILE = PROJECT_DIR / "macros" / "media_file_name.sql"
#: dbt's own files a build reads besides models, macros and seeds (`project_code` hashes them).
DBT_CONFIG_FILES = tuple(
    PROJECT_DIR / name
    for name in ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")
)
#: Where dbt writes, one folder per warehouse (`signaffect.core.dbt_runner`).
DBT_TARGETS_DIR = PROJECT_DIR / "target" / "warehouses"
# DuckDB's buffer memory: past it, sorts, joins and aggregates spill to the temp directory.
# Sized for a 2-core, 24 GB machine, leaving room for Python and dbt around DuckDB; the
# default in profiles.yml must match (tests/test_settings.py checks).
DEFAULT_MEMORY_LIMIT = "3GB"
# dbt's threads (nodes built side by side; each DuckDB query still uses every core). One:
# on 2 cores a second node in flight saved no time but raised the peak (full NCSLGR build,
# idle: 29.5 s with one, 30.5 s with two; NCSLGR `run --no-train`, two runs each way
# alternating at load 4 to 8: 90.6 and 125.4 s, 964 and 1,013 MB peak with one; 100.2 and
# 117.9 s, 1,113 and 1,141 MB with two). profiles.yml's default must match
# (tests/test_settings.py checks); env SIGNAFFECT_THREADS overrides both.
DEFAULT_DBT_THREADS = 1
# dbt's file log (logs/dbt.log): `info` records every node's start, end and error; `debug`
# adds every SQL statement dbt sends, ~15,000 lines a sample build, whose writing was ~5% of
# its time. Env SIGNAFFECT_DBT_LOG_LEVEL overrides it; `cli.py --debug` sets it to debug.
DEFAULT_DBT_LOG_LEVEL = "info"
DBT_LOG_LEVELS = ("debug", "info", "warn", "error")
#: Story-bootstrap draws behind a CI when no one asks for more: the verdict of `train` and the
#: median lead of `timing` (`TrainConfig`, `TimingSettings` and so the CLI read it here).
BOOTSTRAP_RESAMPLES = 1000


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: an explicit path, else env SIGNAFFECT_DB, else the project default."""
    chosen = explicit or os.environ.get("SIGNAFFECT_DB")
    return Path(chosen).expanduser().resolve() if chosen else DEFAULT_DB_PATH


def dbt_log_level() -> str:
    """dbt's file-log level: env SIGNAFFECT_DBT_LOG_LEVEL, else DEFAULT_DBT_LOG_LEVEL."""
    chosen = (os.environ.get("SIGNAFFECT_DBT_LOG_LEVEL") or DEFAULT_DBT_LOG_LEVEL).lower()
    if chosen not in DBT_LOG_LEVELS:
        raise SignAffectError(
            f"SIGNAFFECT_DBT_LOG_LEVEL={chosen} is not a dbt log level",
            f"use one of {', '.join(DBT_LOG_LEVELS)}",
        )
    return chosen


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


def duckdb_config(db: Path | None) -> dict[str, str | bool | int | float | list[str]]:
    """DuckDB settings for every connection: env SIGNAFFECT_MEMORY_LIMIT (default
    DEFAULT_MEMORY_LIMIT) and SIGNAFFECT_TEMP_DIR (default: `<warehouse file>.tmp`, DuckDB's
    own choice), as profiles.yml gives dbt; and extensions never installed or loaded behind
    the user's back (a SQLite file given as --db would otherwise fetch one from the network)."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": os.environ.get("SIGNAFFECT_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    temp = os.environ.get("SIGNAFFECT_TEMP_DIR") or (f"{db}.tmp" if db is not None else None)
    if temp:
        config["temp_directory"] = temp
    return config
