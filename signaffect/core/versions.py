"""The one list of packages whose versions decide SignAffect's numbers: recorded with every
training run (ml_runs.versions) and printed in the report's provenance block."""

from __future__ import annotations

import importlib.metadata
import platform

PACKAGES = (
    "signaffect",
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
    "scikit-learn",
    "numpy",
    "scipy",
    "pyarrow",
    "skops",
    "matplotlib",
    "statsmodels",
    "empath",
    "nrclex",
    "liwc",
    "fer",
    "ai-edge-litert",
    "opencv-python-headless",
)


def package_versions() -> dict[str, str]:
    """Python's version and each package's installed version ("not installed" if absent)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
