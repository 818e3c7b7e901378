"""The frame dataset as Parquet files, written by DuckDB, with a dataset card.

`export_dataset(db, out_dir)` reads the warehouse read-only and writes, with DuckDB's
`COPY ... TO ... (FORMAT parquet)`:

- the two big frame tables partitioned by story (hive layout `frames/story=<story>/*.parquet`;
  read them back with `hive_partitioning`, which restores the `story` column),
- the small tables as single files,
- `README.md`: what each file holds, its grain, row count and columns, and the licences.

The files are written into a new folder beside `out_dir` which then replaces it
(`signaffect.core.atomic.atomic_dir`), so a re-export never mixes old and new files and a
failed export leaves the old one intact; the next export removes one a killed export left.
A folder that is not an earlier export (no card of ours in it) is never replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from read.licences import CORPUS_CITATION, CORPUS_NOTICE, LEXICON_LICENCES
from signaffect.core.atomic import atomic_dir
from signaffect.core.errors import SignAffectError
from signaffect.core.failpoints import failpoint
from signaffect.core.warehouse import connect_marts

CARD_NAME = "README.md"
#: First line of the card: how an earlier export is recognised (and may be replaced).
CARD_MARK = "# SignAffect frame dataset"


@dataclass(frozen=True)
class Export:
    """One exported table: `name` is its file (or folder), `sql` the rows, in a fixed order."""

    name: str
    grain: str
    description: str
    sql: str
    partitioned: bool


EXPORTS = [
    Export(
        "frames",
        "one row per utterance x frame (at its file's frames_per_second)",
        "`fct_frames`: every frame of every utterance: file, utterance, participant and "
        "signer, frame index, time in the utterance and in the media file.",
        "select * from main.fct_frames order by source_file, utterance_id, frame_index",
        partitioned=True,
    ),
    Export(
        "frame_features",
        "one row per frame x active feature",
        "`fct_frame_features` with the frame's story: SignStream `field=value` features, the "
        "current gloss, FACS action units and lexical labels active in the frame.",
        """
        select frame_features.*, files.story,
        from main.fct_frame_features as frame_features
        inner join (select distinct source_file, story from main.fct_frames) as files
            on frame_features.source_file = files.source_file
        order by frame_features.source_file, frame_features.utterance_id,
            frame_features.frame_index, frame_features.feature
        """,
        partitioned=True,
    ),
    Export(
        "features",
        "one row per feature",
        "`dim_features`, the feature catalogue: kind (facial, head, body, grammatical, pos, "
        "gloss, au, lexical, fer), role (face, body, grammar, lexical, label: what it may be "
        "evidence of), SignStream field and value, FACS codes, frame, utterance and story "
        "counts.",
        "select * from main.dim_features order by feature",
        partitioned=False,
    ),
    Export(
        "utterances",
        "one row per utterance",
        "`dim_utterances`: story, signer, times, frame count, main-gloss sequence and English "
        "translation.",
        "select * from main.dim_utterances order by source_file, utterance_id",
        partitioned=False,
    ),
    Export(
        "signers",
        "one row per signer",
        "`dim_signers`: signers identified across files by name, with their story, "
        "utterance and frame counts.",
        "select * from main.dim_signers order by signer_id",
        partitioned=False,
    ),
    Export(
        "lexical_labels",
        "one row per frame x lexical label",
        "The lexical emotion labels of each frame (`<lexicon>:<category>`, e.g. "
        "`empath:confusion`), from `fct_frame_features` rows of kind `lexical`.",
        """
        select
            frame_features.source_file,
            files.story,
            frame_features.utterance_id,
            frame_features.frame_index,
            frame_features.feature as label,
            frame_features.field_name as lexicon,
            frame_features.value_name as category,
        from main.fct_frame_features as frame_features
        inner join (select distinct source_file, story from main.fct_frames) as files
            on frame_features.source_file = files.source_file
        where frame_features.feature_kind = 'lexical'
        order by frame_features.source_file, frame_features.utterance_id,
            frame_features.frame_index, label
        """,
        partitioned=False,
    ),
]


def _path_of(export: Export, root: Path) -> Path:
    return root / export.name if export.partitioned else root / f"{export.name}.parquet"


def _sql_string(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_dataset(db: Path, out_dir: Path) -> dict[str, int]:
    """Write the frame dataset from warehouse `db` into `out_dir` (replacing an earlier
    export there); return the rows written per table name."""
    out_dir = out_dir.resolve()
    _check_replaceable(out_dir)
    with atomic_dir(out_dir, replace=True) as staging:
        rows, columns, corpus = _write_tables(db, staging)
        (staging / CARD_NAME).write_text(_card(rows, columns, corpus), encoding="utf-8")
    return rows


def _check_replaceable(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise SignAffectError(f"{out_dir} is a file, not a folder", "pass --out DIR")
    card = out_dir / CARD_NAME
    if any(out_dir.iterdir()) and not (
        card.is_file() and card.read_text(encoding="utf-8").startswith(CARD_MARK)
    ):
        raise SignAffectError(
            f"{out_dir} is not empty and holds no earlier SignAffect export",
            "pass --out with a new or empty folder (an export replaces its folder's contents)",
        )


def _write_tables(
    db: Path, root: Path
) -> tuple[dict[str, int], dict[str, list[tuple[str, str]]], dict[str, object]]:
    con = connect_marts(db, refuse_stale=True)
    rows: dict[str, int] = {}
    columns: dict[str, list[tuple[str, str]]] = {}
    try:
        for export in EXPORTS:
            target = _path_of(export, root)
            options = "format parquet, compression zstd"
            if export.partitioned:
                options += ", partition_by (story)"
            result = con.execute(f"copy ({export.sql}) to {_sql_string(target)} ({options})")
            rows[export.name] = int(result.fetchall()[0][0])
            failpoint("export.table")
            described = con.execute(f"describe ({export.sql})").fetchall()
            columns[export.name] = [(str(r[0]), str(r[1])) for r in described]
        corpus = _corpus_facts(con)
    except duckdb.CatalogException as exc:
        raise SignAffectError(
            f"{db} lacks a table the export needs: {str(exc).splitlines()[0]}",
            "run `cli.py build` (or `cli.py run`) to build the warehouse first",
        ) from None
    finally:
        con.close()
    return rows, columns, corpus


def _corpus_facts(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    files = con.execute(
        "select count(*), sha256(string_agg(content_hash, ',' order by source_file)) "
        "from main.dim_source_files"
    ).fetchall()[0]
    lexicons = [
        row[0]
        for row in con.execute(
            "select distinct field_name from main.dim_features "
            "where feature_kind = 'lexical' order by 1"
        ).fetchall()
    ]
    return {"n_files": files[0], "files_hash": files[1], "lexicons": lexicons}


#: The card's note on reading the partitioned files back, with an example.
_READING_BACK = [
    "`frames/` and `frame_features/` are partitioned by story (hive layout, one folder "
    "per story); the `story` column comes back from the folder names:",
    "",
    "```python",
    "import duckdb, polars as pl",
    "duckdb.sql(\"select count(*) from read_parquet('frames/*/*.parquet', "
    'hive_partitioning = true)")',
    "pl.read_parquet('frame_features/', hive_partitioning=True)",
    "pl.read_parquet('lexical_labels.parquet')",
    "```",
]


#: The card's pointer to the other export, for checking results against the video.
_ELAN_NOTE = [
    "## In ELAN",
    "",
    "The same warehouse exports each story as an ELAN 3.0 file with `cli.py export --elan "
    "DIR`: the source annotation's tiers, SignAffect's derived tiers (named `SignAffect "
    "auto: ...`, with controlled vocabularies: lexical labels per sign token, FACS action "
    "units, grammatical markers, FER's top emotion, the tokens where a label's top face "
    "feature co-occurs with it), the linked videos, and a `<story>.tiers.toml` with which "
    "`cli.py ingest DIR` reads the folder back to the same frames.",
]


def _card(
    rows: dict[str, int], columns: dict[str, list[tuple[str, str]]], corpus: dict[str, object]
) -> str:
    """The dataset card: where the data came from, each file's grain, rows and columns, how
    to read the files back, and the licences."""
    lexicons: list[str] = corpus["lexicons"] or []  # type: ignore[assignment]
    lines = [
        *_card_intro(corpus),
        "## Files",
        "",
        "| file | grain | rows | what it holds |",
        "|---|---|---:|---|",
        *(
            f"| `{_file_pattern(export)}` | {export.grain} | {rows[export.name]:,} "
            f"| {export.description} |"
            for export in EXPORTS
        ),
        "",
        *_READING_BACK,
        "",
        *_ELAN_NOTE,
        "",
        "## Columns",
        "",
        *(
            f"- **{export.name}**: "
            + ", ".join(f"`{name}` ({dtype.lower()})" for name, dtype in columns[export.name])
            for export in EXPORTS
        ),
        "",
        "## Licences and citation",
        "",
        f"- Corpus: {CORPUS_NOTICE}",
        f"  Cite: {CORPUS_CITATION}",
        *_lexicon_lines(lexicons),
        "",
        "The lexical labels are derived data: word-list lookups of each sign's gloss and "
        "each utterance's English translation. No lexicon word lists are included.",
        "",
    ]
    return "\n".join(lines)


def _card_intro(corpus: dict[str, object]) -> list[str]:
    from importlib.metadata import version

    return [
        CARD_MARK,
        "",
        f"Exported {datetime.now(UTC).replace(microsecond=0).isoformat()} by SignAffect "
        f"{version('signaffect')} (DuckDB {version('duckdb')}) from {corpus['n_files']} "
        f"corpus files (SHA-256 of their content hashes, in file order: "
        f"`{corpus['files_hash']}`). Re-exporting replaces this folder's contents.",
        "",
        "Each file has its own frame rate (`frames_per_second`, 30 for NCSLGR): frame f of an "
        "utterance covers [f·1000/fps, (f+1)·1000/fps) ms from the utterance start. A frame "
        "is identified by "
        "(`source_file`, `utterance_id`, `frame_index`); join tables on those columns.",
        "",
    ]


def _file_pattern(export: Export) -> str:
    return f"{export.name}/story=*/*.parquet" if export.partitioned else f"{export.name}.parquet"


def _lexicon_lines(lexicons: list[str]) -> list[str]:
    """The licence of each lexicon in the export, then of those it does not hold."""
    lines = []
    for lexicon in lexicons:
        licence, citation = LEXICON_LICENCES.get(lexicon, ("unknown licence", ""))
        lines.append(
            f"- Lexicon `{lexicon}` (labels `{lexicon}:*`): {licence}. {citation}".rstrip()
        )
    for lexicon, (licence, citation) in LEXICON_LICENCES.items():
        if lexicon not in lexicons:
            lines.append(f"- Lexicon `{lexicon}` (not in this export): {licence}. {citation}")
    return lines
