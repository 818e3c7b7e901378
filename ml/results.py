"""Write what a training run measured: three warehouse tables and an artefact folder.

The tables are plain DuckDB tables in schema main, not dbt models: dbt would drop and
rebuild them, and they are a log of runs that must outlive rebuilds. They are written on
a fresh read-write connection only after the read-only one used for loading is closed
(DuckDB allows one writer per file). The model is saved with skops (not pickle) beside a
metrics.json that holds the same numbers as the tables. Load it back with
`ml.results.load_model(path)`.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier

from ingest.raw_store import insert_arrow, transaction
from ml.metrics import AVERAGES, Report
from signaffect.warehouse import connect

MODELS = ("random_forest", "stratified", "majority")
METRICS = ("precision", "recall", "f1")

#: Summary columns of ml_runs, e.g. random_forest_micro_f1, majority_weighted_precision.
SUMMARY_COLUMNS = [f"{m}_{a}_{k}" for m in MODELS for a in AVERAGES for k in METRICS]

DDL = [
    """
    create table if not exists main.ml_runs (
        run_id varchar primary key,
        created_at timestamp,
        cv varchar,
        folds integer,
        folds_requested integer,
        cv_note varchar,
        scope varchar,
        input_kinds varchar[],
        target_kind varchar,
        labels varchar[],
        n_labels integer,
        n_features integer,
        config json,
        data_hash varchar,
        versions json,
        seed integer,
        n_frames bigint,
        n_unique_rows bigint,
        collapsed boolean,
        duration_s double,
    """
    + ",\n".join(f"        {c} double" for c in SUMMARY_COLUMNS)
    + "\n    )",
    """
    create table if not exists main.ml_label_metrics (
        run_id varchar,
        model varchar,
        label varchar,
        is_average boolean,
        precision double,
        recall double,
        f1 double,
        support bigint,
        primary key (run_id, model, label)
    )
    """,
    """
    create table if not exists main.ml_feature_importance (
        run_id varchar,
        feature varchar,
        importance double,
        rank integer,
        primary key (run_id, feature)
    )
    """,
]


@dataclass(frozen=True)
class RunRecord:
    """Everything the three tables and metrics.json hold for one run."""

    run: dict[str, Any]
    reports: dict[str, Report]
    importances: list[tuple[str, float]]

    def run_row(self) -> dict[str, Any]:
        row = dict(self.run)
        for model in MODELS:
            for average in AVERAGES:
                score = self.reports[model].averages[average]
                for metric in METRICS:
                    row[f"{model}_{average}_{metric}"] = getattr(score, metric)
        return row

    def label_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "run_id": self.run["run_id"],
                "model": model,
                "label": score.label,
                "is_average": i >= len(self.reports[model].per_label),
                "precision": score.precision,
                "recall": score.recall,
                "f1": score.f1,
                "support": score.support,
            }
            for model in MODELS
            for i, score in enumerate(self.reports[model].rows())
        ]

    def importance_rows(self) -> list[dict[str, Any]]:
        return [
            {"run_id": self.run["run_id"], "feature": f, "importance": v, "rank": rank}
            for rank, (f, v) in enumerate(self.importances, start=1)
        ]


def write_tables(db: Path, record: RunRecord) -> None:
    """Create the result tables if missing and insert this run, in one transaction."""
    write_rows(db, record.run_row(), record.label_rows(), record.importance_rows())


def write_rows(
    db: Path,
    run: dict[str, Any],
    label_rows: list[dict[str, Any]],
    importance_rows: list[dict[str, Any]],
) -> None:
    """Insert one run's rows (as `RunRecord` makes them, or as metrics.json holds them)."""
    run = {**run, "config": json.dumps(run["config"]), "versions": json.dumps(run["versions"])}
    incoming = {
        "ml_runs": pa.Table.from_pylist([run]),
        "ml_label_metrics": pa.Table.from_pylist(label_rows),
        "ml_feature_importance": pa.Table.from_pylist(
            importance_rows,
            schema=pa.schema(
                [
                    ("run_id", pa.string()),
                    ("feature", pa.string()),
                    ("importance", pa.float64()),
                    ("rank", pa.int32()),
                ]
            ),
        ),
    }
    con = connect(db)
    try:
        with transaction(con):
            for ddl in DDL:
                con.execute(ddl)
            for table, rows in incoming.items():
                insert_arrow(con, f"main.{table}", rows)
    finally:
        con.close()


#: skops refuses tree storage unless trusted by name: fine for files this project wrote.
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]


def load_model(path: Path) -> RandomForestClassifier:
    """Load a `model.skops` that `cli.py train` saved (only load files you trust)."""
    model: RandomForestClassifier = sio.load(path, trusted=TRUSTED_TYPES)
    return model


def write_artifacts(
    folder: Path, record: RunRecord, model: RandomForestClassifier, extra: dict[str, Any]
) -> Path:
    """Save `model.skops` and `metrics.json` under `folder` (created); return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    # A multi-output forest stores a value per node per label (~1 GB raw for 100 trees on
    # NCSLGR); the values are mostly 0/1, so level-1 deflate shrinks it ~17x and is faster.
    sio.dump(model, folder / "model.skops", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    payload = {
        "run": record.run_row(),
        "label_metrics": record.label_rows(),
        "feature_importance": record.importance_rows(),
        **extra,
    }
    (folder / "metrics.json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
    return folder
