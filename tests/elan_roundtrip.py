"""Round trip of the ELAN export: export a built warehouse's stories as .eaf files, ingest
that folder into a new warehouse (`cli.py ingest DIR`, no other argument), build what the
comparison reads, and measure how much of the source comes back.

Utterances are matched by story and order: start ms and frame count (which the exporter
keeps), then signer and a digest of their annotations' frames (NCSLGR's elicitation sets
have many utterances that start at 0 ms and last as long, some with the same glosses; the
ELAN reader numbers such ties its own way, and utterances with the same digest are
interchangeable).
Three things are compared, each as a multiset of rows per story:

- frames: `fct_frames` (frame index, signer, media time and media frame);
- annotation frames: every SignStream annotation's frames, `int_annotations_expanded_to_frames`
  (field, feature, value or transition, text: codes, glosses, translations, transitions);
- frame features: `int_frame_features_from_signstream` (the coded `field=value` features
  and glosses of each frame).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.corpus import ingest_corpus
from signaffect.core.dbt_runner import run_dbt

#: What the comparison reads, built (not tested) in the round-trip warehouse.
SELECT = (
    "+fct_frames +dim_utterances +int_annotations_expanded_to_frames"
    " +int_frame_features_from_signstream"
)

_UTTERANCE_ORDER = """
    with content as (
        select source_file, utterance_id,
            md5(string_agg(
                concat_ws('|', field_name, feature, value_name, annotation_text, frame_index),
                ';' order by field_name, frame_index, feature, value_name, annotation_text
            )) as digest,
        from {db}.intermediate.int_annotations_expanded_to_frames
        group by source_file, utterance_id
    )
    select source_file, utterance_id, story,
        row_number() over (
            partition by source_file
            order by start_ms, n_frames, signer_id, digest, utterance_id
        ) as utterance_rank,
    from {db}.main.dim_utterances
    left join content using (source_file, utterance_id)
"""

#: Each compared table, as rows keyed by story and utterance rank (`{db}` is the schema).
COMPARED = {
    "frames": """
        select u.story, u.utterance_rank, f.frame_index, f.signer_id, f.media_time_ms,
            f.media_frame
        from {db}.main.fct_frames as f inner join ({order}) as u using (source_file, utterance_id)
    """,
    "annotation frames": """
        select u.story, u.utterance_rank, a.frame_index, a.field_name, a.feature,
            a.value_name, a.transition, a.annotation_text, a.feature_kind
        from {db}.intermediate.int_annotations_expanded_to_frames as a
        inner join ({order}) as u using (source_file, utterance_id)
    """,
    "frame features": """
        select u.story, u.utterance_rank, f.frame_index, f.feature, f.feature_kind
        from {db}.intermediate.int_frame_features_from_signstream as f
        inner join ({order}) as u using (source_file, utterance_id)
    """,
}


@dataclass(frozen=True)
class Agreement:
    """Per compared table: source rows, rows found again, rows only in the round trip, and
    up to a limit of the differing rows each way (for a test to inspect or print)."""

    table: str
    source_rows: int
    matched: int
    extra: int
    differing: list[tuple]

    @property
    def share(self) -> float:
        return self.matched / self.source_rows if self.source_rows else 1.0


def reingest(export_dir: Path, db: Path) -> float:
    """Ingest the exported folder into `db` and build what is compared; seconds taken."""
    started = time.perf_counter()
    ingest_corpus(db, [export_dir], lexicons=False)
    run_dbt("seed", db)
    run_dbt("run", db, extra_args=["--select", *SELECT.split()])
    return time.perf_counter() - started


def agreement(source_db: Path, roundtrip_db: Path, limit: int = 5) -> list[Agreement]:
    """How much of each compared table of `source_db` comes back in `roundtrip_db`, for the
    stories of `roundtrip_db`, with up to `limit` differing rows either way (each difference
    is computed once and kept, not again for the rows)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{source_db}' as src (read_only)")
        con.execute(f"attach '{roundtrip_db}' as rt (read_only)")
        found = []
        for table, sql in COMPARED.items():
            src, rt = (sql.format(db=d, order=_UTTERANCE_ORDER.format(db=d)) for d in ("src", "rt"))
            src = f"select * from ({src}) where story in (select story from ({rt}))"
            con.execute(f"create or replace temp table source_only as ({src} except all {rt})")
            con.execute(f"create or replace temp table roundtrip_only as ({rt} except all {src})")
            (n_source, n_missing, n_extra) = con.execute(
                f"select (select count(*) from ({src})),"
                " (select count(*) from source_only), (select count(*) from roundtrip_only)"
            ).fetchall()[0]
            differing = con.execute(
                f"(select 'source only', * from source_only limit {limit}) union all "
                f"(select 'round trip only', * from roundtrip_only limit {limit})"
            ).fetchall()
            found.append(Agreement(table, n_source, n_source - n_missing, n_extra, differing))
        return found
    finally:
        con.close()
