"""Write what a training run measured: five warehouse tables and an artefact folder.

The tables are plain DuckDB tables in schema main, not dbt models: dbt would drop and
rebuild them, and they are a log of runs that must outlive rebuilds. They are written on
a fresh read-write connection only after the read-only one used for loading is closed
(DuckDB allows one writer per file). The model is saved with skops (not pickle) beside a
metrics.json that holds the same numbers as the tables; a forest is saved in parts of a
few trees (`model-000.skops`, ...) so that training never holds it whole. Load it back
with `ml.results.load_model(folder)`.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.base import ClassifierMixin

from ml.metrics import AVERAGES, Report
from ml.oof import BASELINES, STRATIFIED, OutOfFold
from ml.oof_rows import OOF_COLUMNS, OOF_FILE, OOF_TABLE
from ml.options import MODEL_NAMES
from ml.precision import LabelPrecision
from ml.verdict import Verdict
from signaffect.core.arrow_tables import insert_arrow, transaction
from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import connect

ROLES = ("model", *BASELINES)
METRICS = ("precision", "recall", "f1")

#: Summary columns of ml_runs, e.g. model_micro_f1 (the trained model, named in column
#: `model`), majority_weighted_precision.
SUMMARY_COLUMNS = [f"{r}_{a}_{k}" for r in ROLES for a in AVERAGES for k in METRICS]
#: The verdict's intervals (`ml.verdict.Verdict` fields): "baseline" is the label prior.
VERDICT_PARTS = ("model", "baseline", "difference", "all_positive", "all_positive_difference")
#: The verdict's numbers in ml_runs, beside its sentence (`verdict`) and reading.
VERDICT_COLUMNS = [
    f"verdict_{part}_{bound}"
    for part in VERDICT_PARTS
    for bound in ("f1", "low", "high")
]
#: Per-label average precision against prevalence (`ml.precision`), model rows only.
PRECISION_COLUMNS: dict[str, str] = {
    "prevalence": "double",
    "average_precision": "double",
    "average_precision_low": "double",
    "average_precision_high": "double",
    "ap_gain_low": "double",
    "ap_gain_high": "double",
    "ap_reading": "varchar",
}

#: Every table's columns and types; `write_tables` adds columns a warehouse lacks.
TABLES: dict[str, dict[str, str]] = {
    "ml_runs": {
        "run_id": "varchar primary key",
        "created_at": "timestamp",
        "cv": "varchar",
        "folds": "integer",
        "folds_requested": "integer",
        "cv_note": "varchar",
        "grain": "varchar",
        "leak_warning": "varchar",
        "model": "varchar",
        "scope": "varchar",
        "input_kinds": "varchar[]",
        "target_kind": "varchar",
        "label_set": "varchar",
        "labels": "varchar[]",
        "n_labels": "integer",
        "n_features": "integer",
        "config": "json",
        "data_hash": "varchar",
        "versions": "json",
        "seed": "integer",
        "n_frames": "bigint",
        "n_unique_rows": "bigint",
        "collapsed": "boolean",
        "duration_s": "double",
        "verdict": "varchar",
        "verdict_reading": "varchar",
        **{c: "double" for c in VERDICT_COLUMNS},
        "verdict_stories": "integer",
        "verdict_resamples": "integer",
        "permutation_p": "double",
        "permutations": "integer",
        **{c: "double" for c in SUMMARY_COLUMNS},
    },
    "ml_label_metrics": {
        "run_id": "varchar",
        "model": "varchar",
        "label": "varchar",
        "is_average": "boolean",
        "precision": "double",
        "recall": "double",
        "f1": "double",
        "support": "bigint",
        "beats_prior": "boolean",
        **PRECISION_COLUMNS,
    },
    "ml_fold_metrics": {
        "run_id": "varchar",
        "model": "varchar",
        "fold": "integer",
        "n_frames": "bigint",
        "n_stories": "integer",
        "precision": "double",
        "recall": "double",
        "f1": "double",
        "macro_f1": "double",
    },
    "ml_feature_importance": {
        "run_id": "varchar",
        "kind": "varchar",
        "feature": "varchar",
        "importance": "double",
        "importance_std": "double",
        "rank": "integer",
    },
    OOF_TABLE: OOF_COLUMNS,
}
KEYS = {
    "ml_label_metrics": ("run_id", "model", "label"),
    "ml_fold_metrics": ("run_id", "model", "fold"),
    "ml_feature_importance": ("run_id", "kind", "feature"),
}


@dataclass(frozen=True)
class RunRecord:
    """Everything the four tables and metrics.json hold for one run."""

    run: dict[str, Any]
    oof: OutOfFold
    reports: dict[str, Report]
    verdict: Verdict
    importances: list[tuple[str, str, float, float | None]]  # kind, feature, value, std
    precisions: list[LabelPrecision]
    oof_rows: pa.Table  # one row per test frame (`ml.oof_rows`)

    def _role(self, name: str) -> str:
        return "model" if name == self.oof.model else name

    def run_row(self) -> dict[str, Any]:
        row = dict(self.run)
        for name in self.oof.names:
            for average in AVERAGES:
                score = self.reports[name].averages[average]
                for metric in METRICS:
                    row[f"{self._role(name)}_{average}_{metric}"] = getattr(score, metric)
        v = self.verdict
        row["verdict"] = v.sentence(MODEL_NAMES[self.oof.model])
        row["verdict_reading"] = v.reading
        for part in VERDICT_PARTS:
            interval = getattr(v, part)
            row[f"verdict_{part}_f1"] = interval.estimate
            row[f"verdict_{part}_low"] = interval.low
            row[f"verdict_{part}_high"] = interval.high
        row["verdict_stories"] = v.n_stories
        row["verdict_resamples"] = v.resamples
        row["permutation_p"] = v.p_value
        row["permutations"] = v.permutations
        return row

    def label_rows(self) -> list[dict[str, Any]]:
        prior = {s.label: s.f1 for s in self.reports[STRATIFIED].per_label}
        precision = {p.label: _precision_cells(p) for p in self.precisions}
        return [
            {
                "run_id": self.run["run_id"],
                "model": name,
                "label": score.label,
                "is_average": i >= len(self.reports[name].per_label),
                "precision": score.precision,
                "recall": score.recall,
                "f1": score.f1,
                "support": score.support,
                "beats_prior": score.f1 > prior[score.label]
                if name == self.oof.model and score.label in prior
                else None,
                **(precision.get(score.label, {}) if name == self.oof.model else {}),
            }
            for name in self.oof.names
            for i, score in enumerate(self.reports[name].rows())
        ]

    def fold_rows(self) -> list[dict[str, Any]]:
        return self._fold_rows

    @cached_property
    def _fold_rows(self) -> list[dict[str, Any]]:
        """Scored once (a report per model and fold): metrics.json and the table use them."""
        labels = [s.label for s in self.reports[self.oof.model].per_label]
        rows = []
        for name in self.oof.names:
            predictions = self.oof.predictions[name]
            for fold in range(self.oof.n_folds):
                part = predictions.where(predictions.fold == fold)
                report = part.report(labels)
                micro = report.averages["micro"]
                rows.append({
                    "run_id": self.run["run_id"],
                    "model": name,
                    "fold": fold,
                    "n_frames": round(float(part.weight.sum())),
                    "n_stories": len(set(part.story.tolist())),
                    "precision": micro.precision,
                    "recall": micro.recall,
                    "f1": micro.f1,
                    "macro_f1": report.averages["macro"].f1,
                })
        return rows

    def importance_rows(self) -> list[dict[str, Any]]:
        rank: dict[str, int] = {}
        rows = []
        for kind, feature, value, std in self.importances:
            rank[kind] = rank.get(kind, 0) + 1
            rows.append({
                "run_id": self.run["run_id"], "kind": kind, "feature": feature,
                "importance": value, "importance_std": std, "rank": rank[kind],
            })
        return rows


def _precision_cells(p: LabelPrecision) -> dict[str, Any]:
    ap, gain = p.average_precision, p.gain
    return {
        "prevalence": p.prevalence,
        "average_precision": None if ap is None else ap.estimate,
        "average_precision_low": None if ap is None else ap.low,
        "average_precision_high": None if ap is None else ap.high,
        "ap_gain_low": None if gain is None else gain.low,
        "ap_gain_high": None if gain is None else gain.high,
        "ap_reading": p.reading,
    }


def _arrow(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as Arrow with every column of `table` (typed by DuckDB on insert)."""
    columns = list(TABLES[table])
    return pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])


def _create_or_migrate(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create `table`, or bring a table written by an older version up to date.

    Older versions had no `kind` in ml_feature_importance (its rows are impurity
    importances) and named the summary columns random_forest_*; columns are added, never
    dropped, so every earlier run stays readable.
    """
    columns = TABLES[table]
    key = f", primary key ({', '.join(KEYS[table])})" if table in KEYS else ""
    body = ", ".join(f"{name} {dtype}" for name, dtype in columns.items())
    con.execute(f"create table if not exists main.{table} ({body}{key})")
    present = {c[0] for c in con.execute(f"select * from main.{table} limit 0").description}
    if table == "ml_feature_importance" and "kind" not in present:
        con.execute(f"alter table main.{table} rename to {table}_old")
        con.execute(f"create table main.{table} ({body}{key})")
        con.execute(
            f"insert into main.{table} (run_id, kind, feature, importance, rank) "
            f"select run_id, 'impurity', feature, importance, rank from main.{table}_old"
        )
        con.execute(f"drop table main.{table}_old")
        return
    for name in [c for c in columns if c not in present]:
        old = name.replace("model_", "random_forest_", 1)
        if name.startswith("model_") and old in present:
            con.execute(f"alter table main.{table} rename column {old} to {name}")
            continue
        con.execute(f"alter table main.{table} add column {name} {columns[name]}")
        if (table, name) in WAS:
            con.execute(f"update main.{table} set {name} = ?", [WAS[(table, name)]])


#: What runs written before a column existed had, for columns that have one value then.
WAS = {("ml_runs", "model"): "random_forest", ("ml_runs", "grain"): "frame"}


def write_tables(db: Path, record: RunRecord) -> None:
    """Create (or update) the result tables and insert this run, in one transaction."""
    write_rows(db, record.run_row(), record.label_rows(), record.fold_rows(),
               record.importance_rows(), record.oof_rows)


def write_rows(
    db: Path,
    run: dict[str, Any],
    label_rows: list[dict[str, Any]],
    fold_rows: list[dict[str, Any]],
    importance_rows: list[dict[str, Any]],
    oof_rows: pa.Table | None,
) -> None:
    """Insert one run's rows (as `RunRecord` makes them, or as metrics.json and the
    Parquet file hold them; None: a run saved before out-of-fold rows were stored)."""
    run = {**run, "config": json.dumps(run["config"]), "versions": json.dumps(run["versions"])}
    incoming = {
        "ml_runs": _arrow("ml_runs", [run]),
        "ml_label_metrics": _arrow("ml_label_metrics", label_rows),
        "ml_fold_metrics": _arrow("ml_fold_metrics", fold_rows),
        "ml_feature_importance": _arrow("ml_feature_importance", importance_rows),
        OOF_TABLE: oof_rows.select(list(OOF_COLUMNS)) if oof_rows is not None
        else pa.table({}),
    }
    con = connect(db)
    try:
        with transaction(con):
            for table, rows in incoming.items():
                _create_or_migrate(con, table)
                if rows.num_rows:
                    insert_arrow(con, f"main.{table}", rows)
    finally:
        con.close()


#: skops refuses tree storage unless trusted by name: fine for files this project wrote.
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]


def save_model(folder: Path, model: ClassifierMixin, part: int) -> Path:
    """Save one part of the final model as `model-<part>.skops` (a forest: a few trees)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"model-{part:03d}.skops"
    import skops.io as sio  # here: importing it imports every estimator (and pytest), ~1 s
    # A multi-output tree stores a value per node per label (~13 MB per tree on NCSLGR);
    # the values are mostly 0/1, so level-1 deflate shrinks them ~17x and is faster.
    sio.dump(model, path, compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    return path


def model_parts(folder: Path) -> list[Path]:
    """The saved parts of the final model in `folder`, in tree order."""
    return sorted(folder.glob("model-*.skops"))


def copy_model(source: Path, folder: Path) -> None:
    """Put the final model saved in `source` into `folder` too (a run that fits the same
    model takes it instead of fitting it again)."""
    folder.mkdir(parents=True, exist_ok=True)
    for part in model_parts(source):
        shutil.copyfile(part, folder / part.name)


def load_model(folder: Path) -> ClassifierMixin:
    """The model `cli.py train` saved in `folder` (only load files you trust).

    A forest is saved in parts of a few trees, so training never holds it whole; loading
    joins the parts into one `RandomForestClassifier`, tree order kept.
    """
    import skops.io as sio

    parts = [sio.load(path, trusted=TRUSTED_TYPES) for path in model_parts(folder)]
    if not parts:
        raise SignAffectError(f"no model-*.skops in {folder}", "pass a run's artifacts folder")
    model = parts[0]
    if len(parts) > 1:
        model.estimators_ = [tree for part in parts for tree in part.estimators_]
        model.n_estimators = len(model.estimators_)
    result: ClassifierMixin = model
    return result


def write_artifacts(folder: Path, record: RunRecord, extra: dict[str, Any]) -> Path:
    """Write `metrics.json` (the tables' numbers) under `folder` (created); return it."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "run": record.run_row(),
        "label_metrics": record.label_rows(),
        "fold_metrics": record.fold_rows(),
        "feature_importance": record.importance_rows(),
        **extra,
    }
    (folder / "metrics.json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
    pq.write_table(record.oof_rows, folder / OOF_FILE)
    return folder
