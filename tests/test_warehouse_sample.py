"""The frame-grain warehouse built from the bundled sample corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.corpus import IngestErrors
from pipeline.corpus import build_warehouse, ingest_corpus
from signaffect.core.settings import SAMPLE_CORPUS_DIR
from tests.conftest import TEST_DBT_VARS, scalar

RAW_TABLES = [
    "signstream_files",
    "signstream_participants",
    "signstream_fields",
    "signstream_values",
    "signstream_media_files",
    "signstream_utterances",
    "signstream_utterance_media",
    "signstream_segments",
    "signstream_annotations",
]


def raw_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t: (con.execute(f"select count(*) from raw.{t}").fetchone() or (0,))[0]
            for t in RAW_TABLES
        }
    finally:
        con.close()


def test_every_public_table_has_rows(sample_db: Path) -> None:
    for table in ["fct_frames", "fct_frame_features", "dim_features", "dim_utterances"]:
        assert scalar(sample_db, f"select count(*) from {table}") > 0, table


def test_frames_match_the_documented_convention(sample_db: Path) -> None:
    expected = scalar(
        sample_db,
        "select sum(floor((end_ms - start_ms) * 30 / 1000.0) + 1) from raw.signstream_utterances",
    )
    assert scalar(sample_db, "select count(*) from fct_frames") == expected


def test_transitions_are_not_features(sample_db: Path) -> None:
    assert (
        scalar(
            sample_db,
            "select count(*) from dim_features where value_name in ('HOLD', 'ONSET', 'OFFSET')",
        )
        == 0
    )
    assert (
        scalar(
            sample_db,
            "select count(*) from intermediate.int_annotations_expanded_to_frames"
            " where is_transition",
        )
        > 0
    )


def test_field_name_variants_are_normalised(sample_db: Path) -> None:
    names = {
        row[0]
        for row in duckdb.connect(str(sample_db), read_only=True)
        .execute("select distinct field_name from staging.stg_signstream__fields")
        .fetchall()
    }
    assert "head pos: jut" in names and "head pos:jut" not in names
    assert "head mvmt: nod" in names and not any(n.endswith("\r") for n in names)
    assert "Non-dominant POS" in names and "non-dominant POS" not in names


def test_gloss_is_a_frame_feature_and_translation_is_not(sample_db: Path) -> None:
    assert scalar(sample_db, "select count(*) from dim_features where feature_kind = 'gloss'") > 0
    assert (
        scalar(
            sample_db, "select count(*) from dim_features where field_name = 'English translation'"
        )
        == 0
    )
    assert (
        scalar(sample_db, "select count(*) from dim_utterances where english_translation is null")
        == 0
    )


def test_reingest_is_idempotent_and_a_bad_run_changes_nothing(
    tmp_path: Path, sample_db: Path
) -> None:
    db = tmp_path / "w.duckdb"
    ingest_corpus(db, [SAMPLE_CORPUS_DIR])
    first = raw_counts(db)
    ingest_corpus(db, [SAMPLE_CORPUS_DIR])
    assert raw_counts(db) == first

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.xml").write_text("<SIGNSTREAM-DATABASE><UTTERANCES>", encoding="utf-8")
    good = sorted(SAMPLE_CORPUS_DIR.glob("*.xml"))[0]
    with pytest.raises(IngestErrors) as caught:
        ingest_corpus(db, [good, bad])
    assert [e.path.endswith("broken.xml") for e in caught.value.errors] == [True]
    assert raw_counts(db) == first


def test_rebuild_gives_the_same_tables(tmp_path: Path, sample_db: Path) -> None:
    """A re-ingest and a forced rebuild of a copy of the sample warehouse (itself one
    ingest and one build, with the same vars) give the same rows."""
    db = tmp_path / "w.duckdb"
    shutil.copy(sample_db, db)
    sql = "select count(*), sum(hash(feature, frame_index)) from fct_frame_features"
    first = scalar(sample_db, sql)
    ingest_corpus(db, [SAMPLE_CORPUS_DIR])
    build_warehouse(db, dbt_vars=TEST_DBT_VARS, force=True)
    assert scalar(db, sql) == first


def test_a_warehouse_without_lookups_gets_them_back(sample_db: Path, tmp_path: Path) -> None:
    """A warehouse ingested before raw.lexicon_lookups existed: the build derives its rows
    from the raw annotations, the same rows an ingest writes."""
    from ingest.corpus import backfill_lookups

    db = tmp_path / "old.duckdb"
    shutil.copy(sample_db, db)
    con = duckdb.connect(str(db))
    try:
        query = "select * from raw.lexicon_lookups order by source_file, annotation_id"
        ingested = con.execute(query).fetchall()
        con.execute("delete from raw.lexicon_lookups")
        filled = backfill_lookups(con)
        assert con.execute(query).fetchall() == ingested and len(ingested) > 300
        assert filled and backfill_lookups(con) == []
    finally:
        con.close()
