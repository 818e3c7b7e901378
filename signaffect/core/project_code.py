"""A fingerprint of everything besides the raw rows and the vars that decides what a build
makes: the dbt project's files, the Python its model runs, and the packages' versions.

Why: a `cli.py build` after nothing changed (the user re-runs the main job, or builds twice)
need not run dbt at all when the raw data, the vars and this fingerprint all match the last
build that finished (`signaffect.core.build_state`): dbt's start-up, parse and 250 nodes
cost half a minute, hashing these files a few milliseconds.
"""

from __future__ import annotations

import hashlib
import importlib.metadata

from signaffect.core.settings import DBT_CONFIG_FILES, PROJECT_DIR

#: Project files dbt reads (test-paths is `tests`: only its SQL and YAML are dbt's).
PROJECT_GLOBS = (
    "models/**/*", "macros/**/*", "seeds/**/*", "tests/**/*.sql", "tests/**/*.yml",
    # the dbt Python model's imports: the statistics and the core floor under them
    "signaffect/stats/**/*.py", "signaffect/core/**/*.py",
)
#: Packages whose version can change what a build makes.
BUILD_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb", "numpy", "scipy", "pyarrow")


def project_code_fingerprint() -> str:
    """SHA-256 over the project files' relative paths and bytes and the packages' versions."""
    paths = set(DBT_CONFIG_FILES)
    for pattern in PROJECT_GLOBS:
        paths.update(PROJECT_DIR.glob(pattern))
    digest = hashlib.sha256()
    for path in sorted(p for p in paths if p.is_file()):
        digest.update(f"{path.relative_to(PROJECT_DIR)}\n".encode())
        digest.update(path.read_bytes())
    for package in BUILD_PACKAGES:
        digest.update(f"{package}=={importlib.metadata.version(package)}\n".encode())
    return digest.hexdigest()
