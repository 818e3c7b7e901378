"""Shared fixtures: the sample corpus and the real NCSLGR corpus, each ingested and built once."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from pipeline.corpus import build_warehouse, ingest_corpus
from signaffect.core.settings import SAMPLE_CORPUS_DIR, ncslgr_dir

if TYPE_CHECKING:
    from tests.fer_story import FerWarehouse


def pytest_report_header(config: pytest.Config) -> list[str]:
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("duckdb", "dbt-core", "dbt-duckdb", "scikit-learn")
    )
    return [versions, f"NCSLGR corpus: {ncslgr_dir()}"]


#: The fixtures that read the real corpus; a test using one (directly or through other
#: fixtures) is marked `corpus`, so `-m "not corpus"` never needs it.
CORPUS_FIXTURES = frozenset({"corpus_dir", "corpus_db"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if CORPUS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.corpus)


#: The association mart's bootstrap and permutation draws in test builds: enough to check
#: every invariant, a fifth of the default's time.
TEST_DBT_VARS = {"association_resamples": 200}


def _built(tmp_path_factory: pytest.TempPathFactory, name: str, corpus: Path) -> Path:
    db = tmp_path_factory.mktemp(name) / "warehouse.duckdb"
    ingest_corpus(db, [corpus])
    build_warehouse(db, dbt_vars=TEST_DBT_VARS)
    return db


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real corpus; its absence is a failure, not a skip (CI must test on it)."""
    path = ncslgr_dir()
    assert path.is_dir() and any(path.glob("*.xml")), (
        f"NCSLGR corpus not found at {path}; set NCSLGR_DIR"
    )
    return path


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse built from the bundled sample corpus."""
    return _built(tmp_path_factory, "sample", SAMPLE_CORPUS_DIR)


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    """A warehouse built from the real NCSLGR corpus."""
    return _built(tmp_path_factory, "ncslgr", corpus_dir)


@pytest.fixture(scope="session")
def fer_warehouse(tmp_path_factory: pytest.TempPathFactory) -> FerWarehouse:
    """The one-story FER corpus of tests/fer_story.py, ingested, analysed and built (read it;
    a test that writes works on a copy). Imported here: video and FER code is not loaded
    for tests that do not ask for it."""
    from tests.fer_story import fer_warehouse_at

    return fer_warehouse_at(tmp_path_factory.mktemp("fer_warehouse"))


def rows(db: Path, sql: str) -> list[tuple]:
    """Every row of a read-only query (the connection closed before returning)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def scalar(db: Path, sql: str) -> object:
    """One value from a read-only query."""
    found = rows(db, sql)
    assert found
    return found[0][0]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    """A local Ray of 2 CPUs for the module's tests, shut down after them."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()
