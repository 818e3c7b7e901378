"""Train and evaluate the face → lexical-emotion random forest with honest cross-validation.

The flow: (re)build the ML mart if the requested scope or inputs differ from what it was
built with → read it read-only → split frames into folds → per fold, grow the per-frame
forest's trees on the training frames' distinct rows, predict the distinct test rows →
pool every fold's out-of-fold predictions and score them once, next to two baselines
fitted on the same folds → fit once more on all frames for the saved model and its
impurity importances → write the tables and the artefacts. Metrics never see a prediction
for a frame that was in the fitting data.
"""

from __future__ import annotations

import platform
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import scipy
import sklearn
import skops
from rich.progress import Progress
from sklearn.ensemble import RandomForestClassifier

from ml.collapse import UniqueRows, collapse_frames, distinct_inputs, unique_rows
from ml.data import FrameMatrix, load_matrix, read_settings
from ml.metrics import Report, score
from ml.model import (
    ForestSettings,
    fit_baseline,
    fit_forest,
    fit_forest_on_rows,
    predict,
    predict_baseline,
)
from ml.options import CV, Inputs, Scope
from ml.recording import check_recordable, record_run
from ml.results import RunRecord
from ml.splits import FoldPlan, plan_folds
from signaffect.dbt_runner import run_dbt
from signaffect.errors import SignAffectError
from signaffect.settings import ARTIFACTS_DIR


@dataclass(frozen=True)
class TrainConfig:
    """One training run. `labels` None means every label in the matrix."""

    cv: CV = CV.kfold
    folds: int = 10
    labels: tuple[str, ...] | None = None
    forest: ForestSettings = field(default_factory=ForestSettings)
    collapse: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "cv": self.cv.value,
            "folds": self.folds,
            "labels": list(self.labels) if self.labels else None,
            "forest": self.forest.as_json(),
            "collapse": self.collapse,
        }


@dataclass
class CVOutcome:
    """Pooled out-of-fold scores of the forest and the baselines."""

    plan: FoldPlan
    reports: dict[str, Report]
    n_unique_rows: int
    fold_micro_f1: list[float]


@dataclass
class TrainResult:
    """What `train` measured and where it put it."""

    run_id: str
    matrix: FrameMatrix
    outcome: CVOutcome
    importances: list[tuple[str, float]]
    duration_s: float
    artifacts: Path | None
    record: RunRecord
    model: RandomForestClassifier


def ensure_mart(
    db: Path,
    scope: Scope | None,
    inputs: Inputs | None,
    progress: Progress | None = None,
) -> bool:
    """Rebuild the ML mart with dbt when it was built for another scope or input set.

    A scope change runs `dbt build --select +ml_frame_matrix+ fct_frame_features+`: the
    lexical rows are made upstream, and every public mart downstream of
    fct_frame_features is rebuilt too, so none is left at the old scope. An input change
    only needs `ml_frame_matrix+`. The target kind the mart was built with is kept.
    Returns whether dbt ran.
    """
    built = read_settings(db)
    want_scope = scope.value if scope else (built.lexical_scope if built else "sign")
    want_kinds = inputs.kinds if inputs else (built.input_kinds if built else Inputs.au.kinds)
    if built and built.lexical_scope == want_scope and tuple(built.input_kinds) == want_kinds:
        return False
    dbt_vars: dict[str, Any] = {"lexical_scope": want_scope, "ml_input_kinds": list(want_kinds)}
    if built:
        dbt_vars["ml_target_kind"] = built.target_kind
    select = ["+ml_frame_matrix+", "fct_frame_features+"]
    if built and built.lexical_scope == want_scope:
        select = ["ml_frame_matrix+"]
    run_dbt("build", db, dbt_vars=dbt_vars, extra_args=["--select", *select], progress=progress)
    return True


def cross_validate(
    matrix: FrameMatrix,
    config: TrainConfig,
    progress: Progress | None = None,
    rows: UniqueRows | None = None,
) -> CVOutcome:
    """Fit on each training fold, predict its test fold, score the pooled predictions."""
    seed = config.forest.seed
    groups = {CV.story: matrix.story, CV.signer: matrix.signer, CV.utterance: matrix.utterance}
    plan = plan_folds(config.cv, config.folds, seed, matrix.n_frames, groups)
    rows = rows or unique_rows(matrix.X, matrix.Y)
    dense_x = None if config.collapse else matrix.X.toarray().astype(np.float32)
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]] = {
        "random_forest": [], "stratified": [], "majority": []
    }
    fold_f1: list[float] = []
    task = progress.add_task(f"cv {plan.cv.value}", total=plan.n_folds) if progress else None
    for fold, (train, test) in enumerate(plan.splits):
        tr_rows, tr_weight = collapse_frames(rows, train)
        te_rows, te_weight = collapse_frames(rows, test)
        y_test = rows.Y[te_rows]
        if config.collapse:
            forest = fit_forest_on_rows(config.forest, rows, train)
            inputs, input_of_test_row = distinct_inputs(rows, te_rows)
            forest_pred = predict(forest, rows.X[inputs])[input_of_test_row]
            pooled["random_forest"].append((y_test, forest_pred, te_weight))
        else:
            assert dense_x is not None
            forest = fit_forest(config.forest, dense_x[train], matrix.Y[train])
            frame_pred = predict(forest, dense_x[test])
            pooled["random_forest"].append((matrix.Y[test], frame_pred, None))
        fold_f1.append(_score_pooled(pooled["random_forest"][-1:], matrix.label_names)
                       .averages["micro"].f1)
        majority = fit_baseline("most_frequent", rows.Y[tr_rows], tr_weight, seed)
        pooled["majority"].append((y_test, predict_baseline(majority, len(te_rows)), te_weight))
        # The stratified baseline draws a fresh label set for every test frame, so it is
        # scored per frame: drawing once per collapsed row would correlate the draws.
        stratified = fit_baseline("stratified", rows.Y[tr_rows], tr_weight, seed + fold)
        pooled["stratified"].append(
            (matrix.Y[test], predict_baseline(stratified, len(test)), None)
        )
        if progress is not None and task is not None:
            progress.advance(task)
    reports = {name: _score_pooled(parts, matrix.label_names) for name, parts in pooled.items()}
    return CVOutcome(plan, reports, rows.n_unique, fold_f1)


def _score_pooled(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]], labels: list[str]
) -> Report:
    y_true = np.concatenate([p[0] for p in parts])
    y_pred = np.concatenate([p[1] for p in parts])
    weights = None
    if any(p[2] is not None for p in parts):
        weights = np.concatenate(
            [p[2] if p[2] is not None else np.ones(len(p[0])) for p in parts]
        )
    return score(y_true, y_pred, labels, weights)


def final_fit(
    matrix: FrameMatrix, config: TrainConfig, rows: UniqueRows
) -> tuple[RandomForestClassifier, list[tuple[str, float]]]:
    """Fit on every frame: the saved model, and impurity importances sorted high to low."""
    if config.collapse:
        forest = fit_forest_on_rows(config.forest, rows, np.arange(matrix.n_frames))
    else:
        forest = fit_forest(config.forest, matrix.X.toarray().astype(np.float32), matrix.Y)
    importances = sorted(
        zip(matrix.feature_names, map(float, forest.feature_importances_), strict=True),
        key=lambda item: (-item[1], item[0]),
    )
    return forest, importances


def versions() -> dict[str, str]:
    """Library versions that decide the numbers, recorded with every run."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "duckdb": duckdb.__version__,
        "skops": skops.__version__,
    }


def train(
    db: Path,
    config: TrainConfig,
    progress: Progress | None = None,
    artifacts_dir: Path | None = None,
    write: bool = True,
) -> TrainResult:
    """Load the mart, cross-validate, fit the final model, and record the run.

    With `write` False nothing is written (the benchmark uses this); otherwise the run
    lands in ml_runs / ml_label_metrics / ml_feature_importance and under
    `artifacts_dir/<run_id>/` (default signaffect.settings.ARTIFACTS_DIR).
    """
    started = time.perf_counter()
    created_at = datetime.now(UTC)
    if write:
        check_recordable(db, artifacts_dir or ARTIFACTS_DIR)
    matrix = load_matrix(db)  # its read-only connection is closed on return
    if not matrix.label_names:
        raise SignAffectError(
            f"ml_frame_matrix has no labels of kind {matrix.settings.target_kind!r}",
            "build the lexical labels first (`cli.py build` after ingesting the lexicons)",
        )
    if config.labels:
        matrix = matrix.select_labels(list(config.labels))
    rows = unique_rows(matrix.X, matrix.Y)
    outcome = cross_validate(matrix, config, progress, rows)
    task = progress.add_task("final fit", total=1) if progress else None
    model, importances = final_fit(matrix, config, rows)
    if progress is not None and task is not None:
        progress.advance(task)
    duration = time.perf_counter() - started
    run_id = f"{created_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    record = RunRecord(
        run={
            "run_id": run_id,
            "created_at": created_at.replace(tzinfo=None),
            "cv": config.cv.value,
            "folds": outcome.plan.n_folds,
            "folds_requested": config.folds,
            "cv_note": outcome.plan.note,
            "scope": matrix.settings.lexical_scope,
            "input_kinds": list(matrix.settings.input_kinds),
            "target_kind": matrix.settings.target_kind,
            "labels": matrix.label_names,
            "n_labels": len(matrix.label_names),
            "n_features": len(matrix.feature_names),
            "config": config.as_json(),
            "data_hash": matrix.data_hash(),
            "versions": versions(),
            "seed": config.forest.seed,
            "n_frames": matrix.n_frames,
            "n_unique_rows": outcome.n_unique_rows,
            "collapsed": config.collapse,
            "duration_s": duration,
        },
        reports=outcome.reports,
        importances=importances,
    )
    artifacts = None
    if write:
        artifacts = record_run(
            db,
            (artifacts_dir or ARTIFACTS_DIR) / run_id,
            record,
            model,
            {"fold_micro_f1": outcome.fold_micro_f1, "feature_names": matrix.feature_names},
        )
    return TrainResult(run_id, matrix, outcome, importances, duration, artifacts, record, model)
