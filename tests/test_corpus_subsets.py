"""Every corpus builds, not only the whole of NCSLGR: a seeded sample of its single files,
pairs and triples, a pair that once failed a data test, and each ELAN / DAI 2 sample alone,
each ingested into a warehouse of its own and built with every data test
(`build_warehouse` raises when one fails). The samples mixed with NCSLGR are built by
tests/test_formats_warehouse.py; every NCSLGR file alone by bench/build_every_file.py (38
builds are too many for CI)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from ingest.file_identity import story_of
from pipeline.corpus import build_warehouse, ingest_corpus
from signaffect.core.settings import elan_samples_dir
from tests.conftest import TEST_DBT_VARS, rows

#: The seed of the sample; change it to try other subsets (bench/build_every_file.py --size).
SEED = 21
#: How many files each sampled corpus has: one single file, one pair, one triple.
SIZES = (1, 2, 3)
#: Every data test holds at any number of draws; a few keep eight builds within minutes.
SUBSET_DBT_VARS: dict[str, object] = {**TEST_DBT_VARS, "association_resamples": 20}
#: A pair whose BH q came out one ulp below its p (issue 21), failing `fct_feature_cooccurrence`.
REGRESSION = ("ncslgr10a.xml", "three pigs.xml")
SAMPLES = (
    "ASL_ncslgr_ali_SignBLEU.eaf",
    "DGS_1418836-15524810-15550340.eaf",
    "ASL_DAI2_1-Ben-Introduction.xml",
)


def seeded_subset(files: list[Path], size: int, seed: int = SEED) -> list[Path]:
    """`size` distinct files drawn with `seed` (one draw per size, so each is reproducible)."""
    return sorted(random.Random(f"{seed}-{size}").sample(sorted(files), size))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one path every build of this module writes its warehouse to, each time from no
    file: dbt keeps its parse per warehouse path (signaffect.core.dbt_runner.target_dir), so
    the builds after the first skip a full parse of the project."""
    return tmp_path_factory.mktemp("subset") / "warehouse.duckdb"


def assert_builds(paths: list[Path], db: Path) -> None:
    """Ingest `paths` alone into a new warehouse at `db`, build with every data test, and
    find each story in the marts."""
    shutil.rmtree(db.with_name(db.name + ".tmp"), ignore_errors=True)
    for left in (db, db.with_name(db.name + ".wal")):
        left.unlink(missing_ok=True)
    ingest_corpus(db, paths)
    build_warehouse(db, dbt_vars=SUBSET_DBT_VARS)
    stories = {r[0] for r in rows(db, "select distinct story from fct_frames")}
    assert stories == {story_of(p.name) for p in paths}, [p.name for p in paths]


@pytest.mark.parametrize("size", SIZES, ids=[f"ncslgr-{n}-files" for n in SIZES])
def test_a_seeded_ncslgr_subset_builds(size: int, corpus_dir: Path, db: Path) -> None:
    assert_builds(seeded_subset(list(corpus_dir.glob("*.xml")), size), db)


def test_the_pair_that_failed_a_data_test_builds(corpus_dir: Path, db: Path) -> None:
    assert_builds([corpus_dir / name for name in REGRESSION], db)


@pytest.mark.parametrize("name", SAMPLES)
def test_each_elan_and_dai2_sample_builds_alone(name: str, db: Path) -> None:
    path = elan_samples_dir() / name
    assert path.is_file(), f"{path} not found; set ELAN_SAMPLES_DIR"
    assert_builds([path], db)


def test_the_seeded_subsets_differ_and_are_reproducible(corpus_dir: Path) -> None:
    files = list(corpus_dir.glob("*.xml"))
    drawn = [seeded_subset(files, n) for n in SIZES]
    assert drawn == [seeded_subset(files, n) for n in SIZES]
    assert [len(d) for d in drawn] == list(SIZES)
    assert seeded_subset(files, 3, seed=SEED + 1) != drawn[2]
