"""Train and evaluate face → lexical-emotion models with honest cross-validation.

The flow: read the ML mart read-only (`pipeline.training` rebuilds it first when
asked for another scope or input set) → split frames into folds (by story unless asked) → per
fold, grow the model on the training frames' distinct rows, predict the distinct test
rows, permute its inputs on the test frames, drop it → keep every fold's out-of-fold
predictions with their story, next to two baselines fitted on the same folds → score them
once, per fold, and decide the verdict by a story bootstrap (`ml.verdict`) → fit once more
on all frames for the saved model and its impurity importances → write the tables and the
artefacts. Metrics never see a prediction for a frame that was in the fitting data.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress
from sklearn.base import ClassifierMixin

from ml.bagging import Grove
from ml.collapse import (
    UniqueRows,
    collapse_frames,
    distinct_inputs,
    held_out_units,
    unique_rows,
)
from ml.data import FrameMatrix, load_matrix
from ml.importance import (
    IMPURITY,
    PERMUTATION,
    FoldImportance,
    held_out_importance,
    plan_shuffles,
    pool_folds,
)
from ml.labelsets import resolve
from ml.lookup import forest_predictions
from ml.metrics import Report, micro_f1
from ml.model import (
    fit_baseline,
    fit_forest,
    fit_logreg_on_rows,
    grow_forests,
    positive_scores,
    predict,
    predict_baseline,
)
from ml.oof import (
    ALL_POSITIVE,
    BASELINES,
    MAJORITY,
    STRATIFIED,
    OutOfFold,
    Predictions,
    pool_parts,
)
from ml.oof_rows import oof_rows
from ml.options import CV, Grain, Model, TrainConfig
from ml.permutation import p_value
from ml.precision import label_precisions
from ml.recording import check_recordable, record_run
from ml.results import RunRecord, copy_model, save_model
from ml.splits import FoldPlan, plan_folds
from ml.verdict import Verdict, decide
from signaffect.core.atomic import staging_dir
from signaffect.core.errors import SignAffectError
from signaffect.core.settings import ARTIFACTS_DIR
from signaffect.core.versions import package_versions


@dataclass
class CVOutcome:
    """Pooled out-of-fold predictions, their scores, and the held-out importances."""

    plan: FoldPlan
    oof: OutOfFold
    reports: dict[str, Report]
    n_unique_rows: int
    fold_micro_f1: list[float]
    permutation_importance: tuple[np.ndarray, np.ndarray] | None


@dataclass
class TrainResult:
    """What `train` measured and where it put it."""

    run_id: str
    matrix: FrameMatrix
    outcome: CVOutcome
    verdict: Verdict
    importances: list[tuple[str, str, float, float | None]]  # kind, feature, value, std
    duration_s: float
    artifacts: Path | None
    record: RunRecord
    label_set: str  # e.g. "study (18 labels)"
    final: FinalModel


@dataclass(frozen=True)
class FinalModel:
    """A run's final fit, to reuse: the final model sees every frame whatever the folds, so a
    run on the same build that differs from `config` only in how it cross-validates fits the
    same model (`cli.py run`'s kfold run takes its story run's), on the same frames, which
    it takes too instead of reading and collapsing them again."""

    config: TrainConfig
    impurity: list[tuple[str, float]]
    folder: Path | None  # where its parts are saved (None: not saved)
    matrix: FrameMatrix  # the frames it was fitted on
    rows: UniqueRows  # their distinct rows

    def serves(self, config: TrainConfig) -> bool:
        """Whether `config` fits this model: the same everything but the CV's settings."""
        return replace(config, cv=self.config.cv, folds=self.config.folds) == self.config


def cross_validate(
    matrix: FrameMatrix,
    config: TrainConfig,
    progress: Progress | None = None,
    rows: UniqueRows | None = None,
    importance: bool = True,
    grove: Grove | None = None,
) -> CVOutcome:
    """Fit on each training fold, predict its test fold, keep the pooled predictions.

    Each fold's model is scored (and, with `importance`, permuted on its test frames) and
    dropped before the next one is grown. `grove`: where the folds' forests grow (`forests`
    made for `fold_plan`'s folds); None: a grove of its own.
    """
    plan = fold_plan(matrix, config)
    rows = rows or unique_rows(matrix.X, matrix.Y)
    with nullcontext(grove) if grove else forests(config, rows, plan) as grown:
        return _cross_validate(matrix, config, plan, rows, progress, importance, grown)


def fold_plan(matrix: FrameMatrix, config: TrainConfig) -> FoldPlan:
    """The folds `cross_validate` runs."""
    groups = {CV.story: matrix.story, CV.signer: matrix.signer, CV.utterance: matrix.utterance}
    return plan_folds(config.cv, config.folds, config.forest.seed, matrix.n_frames, groups)


def forests(
    config: TrainConfig, rows: UniqueRows, plan: FoldPlan, final_frames: int | None = None
) -> AbstractContextManager[Grove | None]:
    """One grove for every forest of a run (`ml.bagging.Grove`): the folds' and, given the
    frame count, the final fit's after them, so no core waits between two forests; None
    (in a context) when the model is no forest grown on collapsed rows."""
    if config.model is not Model.forest or not config.collapse:
        return nullcontext(None)
    final = [] if final_frames is None else [np.arange(final_frames)]
    return grow_forests(config.forest, rows, [train for train, _ in plan.splits] + final)


def _cross_validate(
    matrix: FrameMatrix,
    config: TrainConfig,
    plan: FoldPlan,
    rows: UniqueRows,
    progress: Progress | None,
    importance: bool,
    grove: Grove | None,
) -> CVOutcome:
    stories, story = np.unique(matrix.story, return_inverse=True)
    folds = _Folds(
        matrix, config, rows, story.ravel(),
        None if config.collapse else matrix.X.toarray().astype(np.float32), grove,
    )
    name = config.model.table_name
    parts: dict[str, list[tuple[Predictions, np.ndarray]]] = {
        name: [], STRATIFIED: [], MAJORITY: []
    }
    fold_importance: list[FoldImportance] = []
    task = progress.add_task(f"cv {plan.cv.value}", total=plan.n_folds) if progress else None
    for fold, (train, test) in enumerate(plan.splits):
        held_out = held_out_units(folds.rows, test, folds.story)
        predictions, permuted = folds.model(fold, train, test, held_out, importance)
        parts[name].append(predictions)
        if permuted is not None:
            fold_importance.append(permuted)
        majority, stratified = folds.baselines(fold, train, test, held_out)
        parts[MAJORITY].append(majority)
        parts[STRATIFIED].append(stratified)
        if progress is not None and task is not None:
            progress.advance(task)
    oof = _pooled(name, list(stories), plan, parts)
    reports = {key: p.report(matrix.label_names) for key, p in oof.predictions.items()}
    model_oof = oof.predictions[name]
    fold_f1 = [micro_f1(*_fold(model_oof, fold)) for fold in range(plan.n_folds)]
    return CVOutcome(
        plan, oof, reports, folds.rows.n_unique, fold_f1,
        pool_folds(fold_importance) if fold_importance else None,
    )


def _pooled(
    name: str, stories: list[str], plan: FoldPlan,
    parts: dict[str, list[tuple[Predictions, np.ndarray]]],
) -> OutOfFold:
    """Every fold's predictions pooled, the all-positive baseline on the model's rows."""
    pooled = {key: pool_parts(value) for key, value in parts.items()}
    pooled[ALL_POSITIVE] = (pooled[name][0].all_positive(), pooled[name][1])
    return OutOfFold(
        name, stories, plan.n_folds,
        {key: pooled[key][0] for key in (name, *BASELINES)},
        np.concatenate([test for _, test in plan.splits]),
        {key: pooled[key][1] for key in (name, *BASELINES)},
    )


#: A fold's held-out units (`ml.collapse.held_out_units`): distinct rows, frame counts,
#: stories, and each test frame's unit.
HeldOut = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
#: A fold's predictions and each of its test frames' row in them.
FoldPart = tuple[Predictions, np.ndarray]


@dataclass(frozen=True)
class _Folds:
    """What every fold of one cross-validation shares, and the predictions of one fold."""

    matrix: FrameMatrix
    config: TrainConfig
    rows: UniqueRows
    story: np.ndarray  # story index of each frame
    dense_x: np.ndarray | None  # every frame's inputs, for the plain per-frame reference
    grove: Grove | None  # where the folds' forests grow (None: no forest on collapsed rows)

    def model(
        self, fold: int, train: np.ndarray, test: np.ndarray, held_out: HeldOut, importance: bool
    ) -> tuple[FoldPart, FoldImportance | None]:
        """The fold model's predictions of the test units and, with `importance`, its
        held-out permutation importance.

        The model is asked once about every distinct input: the test frames' own and,
        with `importance`, their shuffled variants (`ml.importance.plan_shuffles`); it is
        dropped right after.
        """
        rows, config = self.rows, self.config
        present, xy_of_frame = np.unique(rows.row_of_frame[test], return_inverse=True)
        first, input_of_present = distinct_inputs(rows.X[present])
        frame_input = input_of_present[xy_of_frame.ravel()]
        if config.collapse:
            te_rows, weight, story, frame_row = held_out
            unit_input, truth = input_of_present[np.searchsorted(present, te_rows)], rows.Y[te_rows]
        else:  # the plain per-frame reference: every test frame is its own unit
            unit_input, truth = frame_input, self.matrix.Y[test]
            weight, story, frame_row = np.ones(len(test)), self.story[test], np.arange(len(test))
        distinct = rows.X[present[first]]
        shuffles = (
            plan_shuffles(distinct, frame_input, config.importance_repeats,
                          config.forest.seed + fold)
            if importance else None
        )
        predict_fold = _fold_model(config, self.matrix, rows, train, self.dense_x,
                                   self.grove)
        answers, scores = predict_fold(distinct if shuffles is None else shuffles.inputs)
        del predict_fold
        if shuffles is not None:
            unit_input = shuffles.rows[unit_input]
        predictions = Predictions(truth, answers[unit_input], weight, story,
                                  np.full(len(truth), fold),
                                  scores[unit_input].astype(np.float32))
        if shuffles is None:
            return (predictions, frame_row), None
        permuted = held_out_importance(shuffles, answers, rows.Y[rows.row_of_frame[test]])
        return (predictions, frame_row), permuted

    def baselines(
        self, fold: int, train: np.ndarray, test: np.ndarray, held_out: HeldOut
    ) -> tuple[FoldPart, FoldPart]:
        """The two fitted baselines: the training frames' majority label set for each test
        unit, and the stratified draws, kept per frame: the stratified baseline draws a
        fresh label set for every test frame, and one draw per collapsed row would correlate
        the draws."""
        rows, seed = self.rows, self.config.forest.seed
        te_rows, weight, story, frame_row = held_out
        tr_rows, tr_weight = collapse_frames(rows, train)
        majority = fit_baseline("most_frequent", rows.Y[tr_rows], tr_weight, seed)
        stratified = fit_baseline("stratified", rows.Y[tr_rows], tr_weight, seed + fold)
        return (
            (Predictions(rows.Y[te_rows], predict_baseline(majority, len(te_rows)), weight,
                         story, np.full(len(te_rows), fold)), frame_row),
            (Predictions(self.matrix.Y[test], predict_baseline(stratified, len(test)),
                         np.ones(len(test)), self.story[test], np.full(len(test), fold)),
             np.arange(len(test))),
        )


def _fold_model(
    config: TrainConfig,
    matrix: FrameMatrix,
    rows: UniqueRows,
    train: np.ndarray,
    dense_x: np.ndarray | None,
    grove: Grove | None,
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The fold's model as a function of inputs to (0/1 predictions, P(label)). A collapsed
    forest is grown when called, a few trees at a time (`ml.lookup.forest_predictions`), so
    it is never whole in memory."""
    if not config.collapse:
        assert dense_x is not None
        plain = fit_forest(config.forest, dense_x[train], matrix.Y[train])
        return lambda X: (predict(plain, X), positive_scores(plain, X))
    if config.model is Model.logreg:
        logreg = fit_logreg_on_rows(config.forest.seed, rows, train)
        return lambda X: (predict(logreg, X), positive_scores(logreg, X))
    assert grove is not None
    return lambda X: forest_predictions(grove.forest(train), X)


def _fold(p: Predictions, fold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    part = p.where(p.fold == fold)
    return part.y_true, part.y_pred, part.weight


def final_fit(
    matrix: FrameMatrix,
    config: TrainConfig,
    rows: UniqueRows,
    save: Callable[[ClassifierMixin, int], object] | None = None,
    grove: Grove | None = None,
) -> list[tuple[str, float]]:
    """Fit on every frame; hand the model to `save` (a forest in parts of TREES_IN_MEMORY
    trees, each saved and dropped); return the forest's impurity importances, high to low.

    A forest's impurity importance is the mean of its trees' (those that split), normalised
    to sum to 1: `RandomForestClassifier.feature_importances_`, accumulated part by part.
    `grove`: where it grows (`forests` made with every frame); None: a grove of its own.
    """
    frames = np.arange(matrix.n_frames)
    if config.model is Model.logreg:
        if save is not None:
            save(fit_logreg_on_rows(config.forest.seed, rows, frames), 0)
        return []
    if not config.collapse:
        plain = fit_forest(config.forest, matrix.X.toarray().astype(np.float32), matrix.Y)
        return _saved_importances(matrix.feature_names, iter([plain]), save)
    with nullcontext(grove) if grove else grow_forests(config.forest, rows, [frames]) as grown:
        return _saved_importances(matrix.feature_names, grown.forest(frames), save)


def _saved_importances(
    names: list[str],
    parts: Iterator[ClassifierMixin],
    save: Callable[[ClassifierMixin, int], object] | None,
) -> list[tuple[str, float]]:
    """The forest's impurity importances, accumulated part by part, each part handed to
    `save` and dropped."""
    total = np.zeros(len(names))
    n_split = 0
    for index, part in enumerate(parts):
        for tree in part.estimators_:
            if tree.tree_.node_count > 1:
                total += tree.feature_importances_
                n_split += 1
        if save is not None:
            save(part, index)
        del part
    mean = total / n_split if n_split else total
    return _ranked(names, mean / mean.sum() if mean.sum() else mean)


def _ranked(names: list[str], values: np.ndarray) -> list[tuple[str, float]]:
    return sorted(zip(names, map(float, values), strict=True), key=lambda x: (-x[1], x[0]))


def train(
    db: Path,
    config: TrainConfig,
    progress: Progress | None = None,
    artifacts_dir: Path | None = None,
    write: bool = True,
    final: FinalModel | None = None,
) -> TrainResult:
    """Load the mart, cross-validate, fit the final model, and record the run.

    With `write` False nothing is written (the benchmark uses this); otherwise the run
    lands in ml_runs / ml_label_metrics / ml_fold_metrics / ml_feature_importance and
    under `artifacts_dir/<run_id>/` (default signaffect.core.settings.ARTIFACTS_DIR).
    `final`: an earlier run's final model on the same build, taken instead of fitting it
    again when it `serves` this run.
    """
    started = time.perf_counter()
    created_at = datetime.now(UTC)
    if write:
        check_recordable(db, artifacts_dir or ARTIFACTS_DIR)
    if final is not None and final.serves(config):
        matrix, rows = final.matrix, final.rows
    else:
        final = None
        matrix = _load(db, config)
        rows = unique_rows(matrix.X, matrix.Y)
    run_id = f"{created_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    folder = (artifacts_dir or ARTIFACTS_DIR) / run_id
    plan = fold_plan(matrix, config)
    # The final forest grows in the folds' grove, its first trees while the CV finishes.
    with forests(config, rows, plan, None if final else matrix.n_frames) as grove:
        outcome = cross_validate(matrix, config, progress, rows, grove=grove)
        verdict = _verdict(matrix, config, outcome)
        precisions = label_precisions(outcome.oof, matrix.label_names, config.resamples,
                                      config.forest.seed)
        oof = oof_rows(run_id, outcome.oof, matrix.units)
        staging = staging_dir(folder) if write else None  # renamed to `folder` once complete
        impurity = _final_model(final, matrix, config, rows, staging, progress, grove)
    importances = _importances(matrix.feature_names, impurity, outcome.permutation_importance)
    duration = time.perf_counter() - started
    label_set = config.label_set.describe(len(matrix.label_names))
    run = _run_row(run_id, created_at, config, matrix, outcome, label_set, duration)
    record = RunRecord(run, outcome.oof, outcome.reports, verdict, importances, precisions, oof)
    artifacts = None
    if write:
        assert staging is not None
        artifacts = record_run(
            db,
            staging,
            folder,
            record,
            {"fold_micro_f1": outcome.fold_micro_f1, "feature_names": matrix.feature_names},
        )
    return TrainResult(run_id, matrix, outcome, verdict, importances, duration, artifacts,
                       record, label_set,
                       FinalModel(config, impurity, artifacts, matrix, rows))


def _load(db: Path, config: TrainConfig) -> FrameMatrix:
    """The grain's matrix with the chosen labels; its read-only connection is closed."""
    matrix = load_matrix(db, config.grain)
    if config.grain is Grain.sign and matrix.settings.target_kind != "lexical":
        raise SignAffectError("--grain sign predicts lexical labels only",
                              "rebuild with dbt var ml_target_kind: lexical")
    if not matrix.label_names:
        raise SignAffectError(
            f"ml_frame_matrix has no labels of kind {matrix.settings.target_kind!r}",
            "build the lexical labels first (`cli.py build` after ingesting the lexicons)",
        )
    chosen = resolve(config.label_set, matrix.label_names)
    return matrix if chosen is None else matrix.select_labels(chosen)


def _verdict(matrix: FrameMatrix, config: TrainConfig, outcome: CVOutcome) -> Verdict:
    """The story-bootstrap verdict, with the story-permutation p-value when asked for."""
    verdict = decide(outcome.oof, config.resamples, config.forest.seed, config.cv.value)
    if not config.permutations:
        return verdict
    return replace(
        verdict,
        p_value=p_value(
            matrix, verdict.difference.estimate, lambda m: _difference(m, config),
            config.permutations, config.forest.seed,
        ),
        permutations=config.permutations,
    )


def _final_model(
    final: FinalModel | None,
    matrix: FrameMatrix,
    config: TrainConfig,
    rows: UniqueRows,
    folder: Path | None,
    progress: Progress | None,
    grove: Grove | None,
) -> list[tuple[str, float]]:
    """The final model's impurity importances, its parts saved in `folder` (None: not
    saved): `final`'s (copied) when given, else `final_fit`'s; a failure leaves no model
    parts without their run."""
    if final is not None:
        if folder is not None and final.folder is not None:
            copy_model(final.folder, folder)
        return final.impurity
    task = progress.add_task("final fit", total=1) if progress else None
    try:
        impurity = final_fit(
            matrix, config, rows,
            None if folder is None else (lambda model, part: save_model(folder, model, part)),
            grove,
        )
    except BaseException:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if progress is not None and task is not None:
        progress.advance(task)
    return impurity


def _run_row(
    run_id: str,
    created_at: datetime,
    config: TrainConfig,
    matrix: FrameMatrix,
    outcome: CVOutcome,
    label_set: str,
    duration: float,
) -> dict[str, Any]:
    """The ml_runs columns that describe the run (the scores are `RunRecord.run_row`'s)."""
    return {
        "run_id": run_id,
        "created_at": created_at.replace(tzinfo=None),
        "cv": config.cv.value,
        "folds": outcome.plan.n_folds,
        "folds_requested": config.folds,
        "cv_note": outcome.plan.note,
        "grain": config.grain.value,
        "leak_warning": LEAK_WARNING if config.cv is CV.kfold else None,
        "model": config.model.table_name,
        "scope": matrix.settings.lexical_scope,
        "input_kinds": list(matrix.settings.input_kinds),
        "target_kind": matrix.settings.target_kind,
        "label_set": label_set,
        "labels": matrix.label_names,
        "n_labels": len(matrix.label_names),
        "n_features": len(matrix.feature_names),
        "config": config.as_json(),
        "data_hash": matrix.data_hash,
        "versions": package_versions(),
        "seed": config.forest.seed,
        "n_frames": matrix.n_frames,
        "n_unique_rows": outcome.n_unique_rows,
        "collapsed": config.collapse,
        "duration_s": duration,
    }


#: Said by every output of a `--cv kfold` run (CLI, ml_runs, report).
LEAK_WARNING = (
    "kfold splits frames, not stories: frames of one story (near copies of each other) are "
    "in both train and test, so these scores measure memory, not generalisation"
)


def _difference(matrix: FrameMatrix, config: TrainConfig) -> float:
    """The verdict's statistic (model minus label-prior micro-F1) of one refitted CV."""
    outcome = cross_validate(matrix, config, importance=False)
    micro = {name: r.averages["micro"].f1 for name, r in outcome.reports.items()}
    return micro[outcome.oof.model] - micro[STRATIFIED]


def _importances(
    features: list[str],
    impurity: list[tuple[str, float]],
    permutation: tuple[np.ndarray, np.ndarray] | None,
) -> list[tuple[str, str, float, float | None]]:
    """(kind, feature, importance, std) rows: impurity (final fit) and permutation (held out)."""
    out: list[tuple[str, str, float, float | None]] = [
        (IMPURITY, f, v, None) for f, v in impurity
    ]
    if permutation is not None:
        mean, std = permutation
        ranked = sorted(zip(features, mean, std, strict=True), key=lambda x: (-x[1], x[0]))
        out += [(PERMUTATION, f, float(m), float(s)) for f, m, s in ranked]
    return out
