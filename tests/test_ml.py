"""ml/: honest evaluation, exact collapsing, grouped splits and the recorded results.

Fast: a small synthetic ML mart is written straight into a temporary DuckDB file (the
two tables ml/ reads, with the declared columns), so no dbt build is needed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from sklearn.ensemble import RandomForestClassifier

from ml import labelsets
from ml.collapse import collapse_frames, unique_rows
from ml.data import MATRIX_COLUMNS, FrameMatrix, MartSettings, encode, load_matrix
from ml.labelsets import STUDY_LABELS
from ml.metrics import micro_f1, score
from ml.model import (
    ForestSettings,
    fit_forest,
    fit_forest_on_rows,
    fit_logreg_on_rows,
    positive_scores,
    predict,
)
from ml.oof import OutOfFold, Predictions
from ml.options import CV, ClassWeight, Grain, Inputs, Model, Scope
from ml.results import load_model
from ml.splits import plan_folds, shared_groups
from ml.train import CVOutcome, TrainConfig, cross_validate, train
from ml.verdict import ABOVE, BELOW, READINGS, decide
from pipeline.training import ensure_mart
from signaffect.core.errors import SignAffectError

FAST = ForestSettings(n_estimators=15, seed=0, n_jobs=1)


def synthetic_mart(seed: int = 0) -> tuple[pa.Table, pa.Table]:
    """ml_frame_matrix and ml_feature_catalog for 6 stories x 4 utterances x 40 frames.

    Action units persist over runs of frames (so neighbouring frames are near copies).
    `lab:brow` is AU1 and AU2 together (learnable from the face), `lab:story` marks two
    stories (a story-level label, as lexical labels are), `lab:rare` is random noise.
    """
    rng = np.random.default_rng(seed)
    aus = [f"AU{i} unit" for i in range(1, 7)]
    rows = []
    for s in range(6):
        for u in range(4):
            state = rng.random(len(aus)) < 0.3
            for f in range(40):
                flip = rng.random(len(aus)) < 0.1
                state = state ^ flip
                active = sorted(a for a, on in zip(aus, state, strict=True) if on)
                labels = []
                if state[0] and state[1]:
                    labels.append("lab:brow")
                if s in (0, 3):
                    labels.append("lab:story")
                if rng.random() < 0.1:
                    labels.append("lab:rare")
                rows.append({
                    "source_file": f"story{s}.xml",
                    "utterance_id": u,
                    "frame_index": f,
                    "story": f"story{s}",
                    "signer_id": f"signer{s % 3}",
                    "input_features": active,
                    "labels": sorted(labels),
                    "input_kinds": ["au"],
                    "target_kind": "lexical",
                    "lexical_scope": "sign",
                })
    matrix = pa.Table.from_pylist(rows)
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        for name in row["input_features"]:
            counts[(name, "input")] = counts.get((name, "input"), 0) + 1
        for name in row["labels"]:
            counts[(name, "label")] = counts.get((name, "label"), 0) + 1
    catalog_rows = []
    for role in ("input", "label"):
        names = sorted(n for n, r in counts if r == role)
        for i, name in enumerate(names):
            catalog_rows.append({
                "feature": name, "role": role, "feature_kind": "au" if role == "input" else
                "lexical", "n_frames": counts[(name, role)], "column_index": i,
            })
    return matrix, pa.Table.from_pylist(catalog_rows)


@pytest.fixture()
def mart_db(tmp_path: Path) -> Path:
    """A DuckDB file holding only the synthetic ML mart."""
    db = tmp_path / "ml.duckdb"
    matrix, catalog = synthetic_mart()
    con = duckdb.connect(str(db))
    con.register("m", matrix)
    con.register("c", catalog)
    con.execute("create table main.ml_frame_matrix as select * from m")
    con.execute("create table main.ml_feature_catalog as select * from c")
    con.close()
    return db


@pytest.fixture()
def matrix() -> FrameMatrix:
    return encode(*synthetic_mart())


def test_encode_one_hot_in_sorted_catalog_order(matrix: FrameMatrix) -> None:
    assert matrix.feature_names == sorted(matrix.feature_names)
    assert matrix.label_names == ["lab:brow", "lab:rare", "lab:story"]
    raw, _ = synthetic_mart()
    first = raw.slice(0, 1).to_pylist()[0]
    row = matrix.X[0].toarray().ravel()
    assert [matrix.feature_names[j] for j in np.flatnonzero(row)] == first["input_features"]
    assert matrix.n_frames == 6 * 4 * 40


def test_expected_columns_are_checked_at_start_up(tmp_path: Path) -> None:
    db = tmp_path / "bad.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table ml_frame_matrix (source_file varchar, story varchar)")
    con.close()
    with pytest.raises(SignAffectError, match="ml_frame_matrix does not match") as info:
        load_matrix(db)
    assert "labels (VARCHAR[]) missing" in info.value.message
    assert set(MATRIX_COLUMNS) >= {"input_features", "labels", "story", "signer_id"}


def test_missing_mart_is_one_line_with_a_hint(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    with pytest.raises(SignAffectError, match="no table ml_frame_matrix") as info:
        load_matrix(db)
    assert info.value.hint and "cli.py build" in info.value.hint


def test_unknown_label_is_refused(matrix: FrameMatrix) -> None:
    with pytest.raises(SignAffectError, match="unknown label"):
        matrix.select_labels(["nrc:nothing"])


def test_metrics_come_from_out_of_fold_predictions_only() -> None:
    """A label that is a deterministic function of a per-frame unique id is memorisable.

    Fitting on the test fold would score ~1; honest out-of-fold predictions cannot do
    better than chance, because no test frame's id was ever seen in training.
    """
    n = 300
    rng = np.random.default_rng(1)
    X = sp.identity(n, format="csr", dtype=np.float32)  # feature j = "this is frame j"
    Y = (rng.random((n, 1)) < 0.5).astype(np.uint8)
    groups = np.array([f"g{i // 10}" for i in range(n)])
    m = FrameMatrix(
        X=X, Y=Y, feature_names=[f"id{i:03d}" for i in range(n)], label_names=["lab:coin"],
        story=groups, signer=groups, utterance=groups,
        settings=MartSettings(("au",), "lexical", "sign"),
    )
    outcome = cross_validate(m, TrainConfig(cv=CV.kfold, folds=5, forest=FAST))
    oof = outcome.reports["random_forest"].averages["micro"].f1
    in_sample = fit_forest(FAST, X.toarray(), Y)
    in_sample_f1 = score(Y, predict(in_sample, X.toarray()), ["lab:coin"]).averages["micro"].f1
    assert in_sample_f1 > 0.95
    assert oof < 0.75


def test_grouped_cv_never_shares_a_group(matrix: FrameMatrix) -> None:
    groups = {CV.story: matrix.story, CV.signer: matrix.signer, CV.utterance: matrix.utterance}
    for cv in (CV.story, CV.signer, CV.utterance):
        plan = plan_folds(cv, 10, 0, matrix.n_frames, groups)
        assert list(shared_groups(plan.splits, groups[cv])) == []
        tested = np.concatenate([test for _, test in plan.splits])
        assert sorted(tested) == list(range(matrix.n_frames))  # every frame tested once
    # folds = min(requested, groups), with a note; one fold per signer.
    story = plan_folds(CV.story, 10, 0, matrix.n_frames, groups)
    assert story.n_folds == 6 and story.note and "6 folds instead of 10" in story.note
    assert plan_folds(CV.signer, 10, 0, matrix.n_frames, groups).n_folds == 3
    # the study's shuffled KFold does put frames of one story on both sides
    kfold = plan_folds(CV.kfold, 10, 0, matrix.n_frames, groups)
    assert list(shared_groups(kfold.splits, matrix.story))


def test_collapsed_evaluation_equals_per_frame_evaluation(matrix: FrameMatrix) -> None:
    rows = unique_rows(matrix.X, matrix.Y)
    assert rows.n_unique < matrix.n_frames
    plan = plan_folds(CV.story, 3, 0, matrix.n_frames, {CV.story: matrix.story})
    train_idx, test_idx = plan.splits[0]
    forest = fit_forest_on_rows(FAST, rows, train_idx)
    te_rows, te_w = collapse_frames(rows, test_idx)
    collapsed = score(rows.Y[te_rows], predict(forest, rows.X[te_rows]), matrix.label_names, te_w)
    dense = matrix.X.toarray()
    per_frame = score(
        matrix.Y[test_idx], predict(forest, dense[test_idx]), matrix.label_names
    )
    assert collapsed == per_frame
    assert te_w.sum() == len(test_idx)


@pytest.mark.parametrize("class_weight", [ClassWeight.none, ClassWeight.balanced])
def test_the_forest_grown_on_rows_is_the_per_frame_forest(
    sample_db: Path, class_weight: ClassWeight
) -> None:
    """On the sample corpus, tree for tree: the collapsed fit is the plain fit, not a look-alike."""
    on_rows, on_frames, dense = _both_forests(sample_db, class_weight)
    for grown, plain in zip(on_rows.estimators_, on_frames.estimators_, strict=True):
        assert grown.random_state == plain.random_state
        assert np.array_equal(grown.tree_.feature, plain.tree_.feature)
        assert np.array_equal(grown.tree_.threshold, plain.tree_.threshold)
        assert np.allclose(grown.tree_.value, plain.tree_.value)
    assert np.array_equal(on_rows.predict(dense), on_frames.predict(dense))
    assert np.allclose(on_rows.feature_importances_, on_frames.feature_importances_)


def test_balanced_subsample_differs_only_by_rounding(sample_db: Path) -> None:
    """Its weights are fractions summed in another order, so exact ties may break otherwise."""
    on_rows, on_frames, dense = _both_forests(sample_db, ClassWeight.balanced_subsample)
    roots = [(t.tree_.feature[0], t.tree_.threshold[0]) for t in on_rows.estimators_]
    assert roots == [(t.tree_.feature[0], t.tree_.threshold[0]) for t in on_frames.estimators_]
    assert (on_rows.predict(dense) == on_frames.predict(dense)).mean() > 0.999


def _both_forests(
    db: Path, class_weight: ClassWeight
) -> tuple[RandomForestClassifier, RandomForestClassifier, np.ndarray]:
    """The same forest settings fitted on 80% of the frames' distinct rows and on the frames."""
    matrix = load_matrix(db)
    rows = unique_rows(matrix.X, matrix.Y)
    assert rows.n_unique * 3 < matrix.n_frames
    train_idx = np.random.default_rng(5).permutation(matrix.n_frames)[: matrix.n_frames * 4 // 5]
    settings = ForestSettings(n_estimators=8, seed=11, n_jobs=2, class_weight=class_weight)
    dense = matrix.X.toarray().astype(np.float32)
    return (
        fit_forest_on_rows(settings, rows, train_idx),
        fit_forest(settings, dense[train_idx], matrix.Y[train_idx]),
        dense,
    )


def test_collapsed_cross_validation_equals_the_plain_one(matrix: FrameMatrix) -> None:
    collapsed = cross_validate(matrix, TrainConfig(cv=CV.kfold, folds=5, forest=FAST))
    plain = cross_validate(
        matrix, TrainConfig(cv=CV.kfold, folds=5, forest=FAST, collapse=False)
    )
    assert collapsed.reports == plain.reports
    assert collapsed.fold_micro_f1 == plain.fold_micro_f1


def test_results_land_in_the_four_tables(mart_db: Path, tmp_path: Path) -> None:
    result = train(mart_db, TrainConfig(cv=CV.story, folds=3, forest=FAST, resamples=50,
                                        importance_repeats=2),
                   artifacts_dir=tmp_path / "artifacts")
    with duckdb.connect(str(mart_db), read_only=True) as con:
        run = con.execute(
            "select cv, folds, scope, n_frames, n_unique_rows, seed, data_hash, "
            "model_micro_f1, stratified_micro_f1, majority_micro_f1, "
            "versions->>'scikit-learn', model, label_set, verdict, verdict_reading, "
            "verdict_model_f1, verdict_difference_low, leak_warning "
            "from ml_runs where run_id = ?", [result.run_id]
        ).fetchone()
        n_metrics = con.execute(
            "select count(*), count(distinct model), count(beats_prior) "
            "from ml_label_metrics where run_id = ?",
            [result.run_id],
        ).fetchone()
        importances = con.execute(
            "select kind, feature, rank from ml_feature_importance where run_id = ? "
            "order by kind, rank",
            [result.run_id],
        ).fetchall()
        folds = con.execute(
            "select model, fold, n_frames, f1 from ml_fold_metrics where run_id = ? "
            "order by model, fold", [result.run_id]
        ).fetchall()
    assert run is not None and run[:4] == ("story", 3, "sign", 960)
    micro = result.outcome.reports["random_forest"].averages["micro"].f1
    assert run[7] == pytest.approx(micro) == pytest.approx(run[15])
    assert run[11:13] == ("random_forest", "all (3 labels)")
    assert run[13].startswith(f"Verdict: random forest is {run[14]} on held-out stories")
    assert run[14] in READINGS and run[16] == result.verdict.difference.low
    assert run[17] is None  # grouped runs do not leak
    assert n_metrics == (4 * (3 + 3), 4, 3)  # model + 3 baselines x (3 labels + 3 averages)
    assert [(k, r) for k, _, r in importances] == [
        *(("impurity", r) for r in range(1, 7)), *(("permutation", r) for r in range(1, 7))
    ]
    assert len(folds) == 4 * 3 and sum(n for m, _, n, _ in folds if m == "majority") == 960
    assert [f1 for m, _, _, f1 in folds if m == "random_forest"] == pytest.approx(
        result.outcome.fold_micro_f1
    )
    assert result.artifacts is not None
    model = load_model(result.artifacts)
    assert model.n_estimators == len(model.estimators_) == FAST.n_estimators
    assert model.predict(result.matrix.X.toarray()[:5]).shape == (5, 3)
    assert len(list(result.artifacts.glob("model-*.skops"))) == 2  # 15 trees, 10 at a time
    assert (result.artifacts / "metrics.json").exists()
    # a second run appends, the first stays
    train(mart_db, TrainConfig(cv=CV.signer, forest=FAST, resamples=20, importance_repeats=1),
          artifacts_dir=tmp_path / "a2")
    con = duckdb.connect(str(mart_db), read_only=True)
    assert con.execute("select count(*) from ml_runs").fetchone() == (2,)
    con.close()


def test_same_seed_same_numbers(mart_db: Path) -> None:
    config = TrainConfig(cv=CV.kfold, folds=4, forest=FAST)
    first = train(mart_db, config, write=False)
    second = train(mart_db, config, write=False)
    assert first.outcome.reports == second.outcome.reports
    assert first.importances == second.importances
    assert first.record.run_row()["data_hash"] == second.record.run_row()["data_hash"]
    other = train(mart_db, TrainConfig(cv=CV.kfold, folds=4,
                                       forest=ForestSettings(n_estimators=15, seed=1, n_jobs=1)),
                  write=False)
    assert other.outcome.reports["stratified"] != first.outcome.reports["stratified"]


def test_ensure_mart_rebuilds_only_when_asked_for_something_else(
    mart_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[dict[str, object], list[str]]] = []
    monkeypatch.setattr(
        "pipeline.training.recorded_build",
        lambda db, progress, dbt_vars, extra_args, partial_tables: calls.append(
            (dbt_vars, extra_args)
        ),
    )
    assert not ensure_mart(mart_db, None, None)
    assert not ensure_mart(mart_db, Scope.sign, Inputs.au)
    assert ensure_mart(mart_db, None, Inputs.facial)
    assert calls[-1] == (
        {"lexical_scope": "sign", "ml_input_kinds": ["facial", "head"],
         "ml_target_kind": "lexical"},
        ["--select", "ml_frame_matrix+", "ml_sign_token_matrix+", "dim_build_settings"],
    )
    assert ensure_mart(mart_db, Scope.utterance, None)
    assert calls[-1][0]["lexical_scope"] == "utterance"
    assert calls[-1][1] is None  # a full build: every mart the scope reaches follows it
    # the token grain's mart is missing here: build it (and its upstream) at the same scope
    assert ensure_mart(mart_db, None, None, grain=Grain.sign)
    assert calls[-1][1] == ["--select", "ml_frame_matrix+", "+ml_sign_token_matrix+",
                            "dim_build_settings"]


def test_cli_train_prints_tables_and_fails_in_one_line(mart_db: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["--quiet", "--db", str(mart_db), "train", "--cv", "story",
                             "--folds", "3", "--trees", "5", "--artifacts-dir", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    for text in ("GroupKFold by story", "micro avg", "weighted avg", "stratified", "rank",
                 "run 20"):
        assert text in ok.output
    bad = runner.invoke(app, ["--quiet", "--db", str(mart_db), "train", "--labels", "nrc:nope"])
    assert bad.exit_code == 1
    assert "error: unknown label(s): nrc:nope" in bad.output


def test_score_equals_scikit_learn_with_and_without_weights() -> None:
    """ml.metrics counts TP/FP/FN itself for speed; it must give scikit-learn's numbers."""
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(3)
    for n_labels in (1, 4):
        y_true = (rng.random((400, n_labels)) < 0.1).astype(np.uint8)
        y_pred = (rng.random((400, n_labels)) < 0.2).astype(np.uint8)
        for weight in (None, rng.integers(1, 6, 400).astype(float)):
            report = score(y_true, y_pred, [f"l{i}" for i in range(n_labels)], weight)
            extra = {"labels": [1]} if n_labels == 1 else {}
            truth, pred = (y_true.ravel(), y_pred.ravel()) if n_labels == 1 else (y_true, y_pred)
            for average in ("micro", "macro", "weighted"):
                expected = precision_recall_fscore_support(
                    truth, pred, average=average, sample_weight=weight, zero_division=0, **extra
                )[:3]
                got = report.averages[average]
                assert np.allclose([got.precision, got.recall, got.f1], expected)


# --- what generalises, said in words (issue 12) -------------------------------------------


def test_the_default_cv_is_story(mart_db: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    assert TrainConfig().cv is CV.story
    done = CliRunner().invoke(app, ["--quiet", "--db", str(mart_db), "train", "--trees", "3",
                                    "--resamples", "20", "--importance-repeats", "1",
                                    "--artifacts-dir", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Verdict: random forest is ")
    assert "labels: all (3 labels)" in done.output and "GroupKFold by story" in done.output
    con = duckdb.connect(str(mart_db), read_only=True)
    assert con.execute("select cv, leak_warning from ml_runs").fetchall() == [("story", None)]
    con.close()


def test_a_kfold_run_says_it_leaks(mart_db: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app
    from ml.train import LEAK_WARNING

    done = CliRunner().invoke(app, ["--quiet", "--db", str(mart_db), "train", "--cv", "kfold",
                                    "--folds", "3", "--trees", "3", "--resamples", "20",
                                    "--importance-repeats", "1", "--artifacts-dir",
                                    str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("WARNING: kfold splits frames, not stories")
    assert "on held-out frames of stories it also trained on (kfold)" in done.output
    con = duckdb.connect(str(mart_db), read_only=True)
    assert con.execute("select leak_warning from ml_runs").fetchall() == [(LEAK_WARNING,)]
    con.close()


def test_a_run_that_differs_only_in_its_cv_takes_the_final_model(
    mart_db: Path, tmp_path: Path
) -> None:
    """`cli.py run` trains twice on one build (story, then kfold): the final model sees every
    frame whatever the folds, so the second run takes the first's (and its frames) instead
    of refitting it, and gets the model, impurity importances and data hash a refit gives;
    a different forest refits."""
    story = TrainConfig(cv=CV.story, folds=3, forest=FAST, resamples=20, importance_repeats=1)
    kfold = dataclasses.replace(story, cv=CV.kfold, folds=4)
    first = train(mart_db, story, artifacts_dir=tmp_path / "story")
    taken = train(mart_db, kfold, artifacts_dir=tmp_path / "taken", final=first.final)
    refit = train(mart_db, kfold, artifacts_dir=tmp_path / "refit")
    assert first.final.serves(kfold)
    fewer_trees = dataclasses.replace(FAST, n_estimators=3)
    assert not first.final.serves(dataclasses.replace(kfold, forest=fewer_trees))
    assert taken.final.impurity == refit.final.impurity
    assert taken.matrix is first.matrix and refit.matrix is not first.matrix
    assert taken.record.run_row()["data_hash"] == refit.record.run_row()["data_hash"]
    assert taken.artifacts is not None and refit.artifacts is not None
    assert taken.artifacts != first.artifacts
    X = taken.matrix.X.toarray()
    pairs = zip(load_model(taken.artifacts).predict_proba(X),
                load_model(refit.artifacts).predict_proba(X), strict=True)
    assert all(np.array_equal(a, b) for a, b in pairs)
    assert [(k, f, v) for k, f, v, _ in taken.importances if k == "impurity"] == [
        (k, f, v) for k, f, v, _ in refit.importances if k == "impurity"
    ]


def _outcome(matrix: FrameMatrix) -> CVOutcome:
    return cross_validate(matrix, TrainConfig(cv=CV.story, folds=3, forest=FAST,
                                              importance_repeats=1))


def test_the_verdict_is_computed_from_the_stored_predictions(matrix: FrameMatrix) -> None:
    oof = _outcome(matrix).oof
    stored = oof.predictions["random_forest"]
    verdict = decide(oof, 200, 0)
    assert verdict.model.estimate == pytest.approx(
        micro_f1(stored.y_true, stored.y_pred, stored.weight)
    )

    def with_predictions(y_pred: np.ndarray) -> OutOfFold:
        changed = dataclasses.replace(stored, y_pred=y_pred)
        return dataclasses.replace(oof, predictions={**oof.predictions,
                                                     "random_forest": changed})

    perfect = decide(with_predictions(stored.y_true.copy()), 200, 0)
    assert perfect.model.estimate == 1.0 and perfect.reading == ABOVE
    nothing = decide(with_predictions(np.zeros_like(stored.y_pred)), 200, 0)
    assert nothing.model.estimate == 0.0 and nothing.reading == BELOW
    assert "is below a baseline" in nothing.sentence("random forest")


def test_the_story_bootstrap_matches_a_slow_reference() -> None:
    """The fast bootstrap (per-story counts x draw multiplicities) against a plain loop that
    pools the resampled stories' rows and scores them with ml.metrics.score, for the model
    and both baselines; the draws replayed as `clustered_stats.cluster_weights` makes them."""
    rng = np.random.default_rng(7)
    n_stories, labels = 5, ["a", "b", "c"]

    def predictions(rows: int, p: float) -> Predictions:
        truth = (rng.random((rows, 3)) < 0.3).astype(np.uint8)
        guess = np.where(rng.random((rows, 3)) < p, truth, 1 - truth).astype(np.uint8)
        return Predictions(truth, guess, rng.integers(1, 4, rows).astype(float),
                           rng.integers(0, n_stories, rows), np.zeros(rows, dtype=int))

    model = predictions(60, 0.8)
    stored = {"random_forest": model, "stratified": predictions(80, 0.5),
              "majority": predictions(60, 0.5), "all_positive": model.all_positive()}
    oof = OutOfFold("random_forest", [f"s{i}" for i in range(n_stories)], 1, stored,
                    np.arange(60), {})
    resamples, seed = 300, 3
    fast = decide(oof, resamples, seed)
    draws = np.random.default_rng(seed).integers(0, n_stories, size=(resamples, n_stories))
    slow: dict[str, list[float]] = {name: [] for name in ("random_forest", "stratified",
                                                          "all_positive")}
    for draw in draws:
        for name in slow:
            p = oof.predictions[name]
            rows = np.concatenate([np.flatnonzero(p.story == s) for s in draw])
            slow[name].append(score(p.y_true[rows], p.y_pred[rows], labels,
                                    p.weight[rows]).averages["micro"].f1)
    forest = np.array(slow["random_forest"])
    prior, everything = np.array(slow["stratified"]), np.array(slow["all_positive"])
    for got, values in ((fast.model, forest), (fast.baseline, prior),
                        (fast.difference, forest - prior), (fast.all_positive, everything),
                        (fast.all_positive_difference, forest - everything)):
        assert [got.low, got.high] == pytest.approx(np.percentile(values, [2.5, 97.5]))
    assert fast.n_stories == n_stories and fast.resamples == resamples


def test_an_interval_touching_zero_is_not_distinguishable() -> None:
    """Above needs both differences' intervals above 0 as shown: +0.000 touches 0."""
    from ml.verdict import TIED, Interval, reading

    clear, touching = Interval(0.02, 0.01, 0.03), Interval(0.01, 0.0004, 0.02)
    assert reading(clear, clear) == ABOVE
    assert reading(clear, touching) == TIED and "[+0.000, +0.020]" in touching.text(True)
    assert reading(clear, Interval(-0.02, -0.03, -0.01)) == BELOW
    assert reading(clear, Interval(0.0, -0.01, 0.01)) == TIED


def test_average_precision_is_scikit_learns_beside_prevalence(matrix: FrameMatrix) -> None:
    """Per label, AP of the stored scores and its story-bootstrap draws equal scikit-learn's
    `average_precision_score` with frame weights; the learnable label is above prevalence."""
    from sklearn.metrics import average_precision_score

    from ml.precision import ABOVE as AP_ABOVE
    from ml.precision import label_precisions
    from ml.verdict import story_draws

    oof = _outcome(matrix).oof
    stored = oof.predictions["random_forest"]
    assert stored.score is not None
    precisions = label_precisions(oof, matrix.label_names, 100, 0)
    _, times = story_draws(oof, 100, 0)
    for k, got in enumerate(precisions):
        truth, scores = stored.y_true[:, k], stored.score[:, k]
        assert got.average_precision is not None
        assert got.average_precision.estimate == pytest.approx(
            average_precision_score(truth, scores, sample_weight=stored.weight))
        assert got.prevalence == pytest.approx(np.average(truth, weights=stored.weight))
        weights = [stored.weight * t[stored.story] for t in times]
        draws = [average_precision_score(truth, scores, sample_weight=w)
                 for w in weights if w @ truth > 0]  # a draw without the label leaves
        assert [got.average_precision.low, got.average_precision.high] == pytest.approx(
            np.percentile(draws, [2.5, 97.5]))
    assert precisions[matrix.label_names.index("lab:brow")].reading == AP_ABOVE


def test_the_verdict_is_recomputed_from_the_stored_rows(mart_db: Path, tmp_path: Path) -> None:
    """The warehouse's ml_oof_predictions and the run's Parquet file each give back the
    verdict and the average precisions, and name every test frame once."""
    import pyarrow.parquet as pq

    from ml.oof_rows import OOF_FILE, read_oof, recompute
    from ml.precision import label_precisions

    config = TrainConfig(cv=CV.story, folds=3, forest=FAST, resamples=200,
                         importance_repeats=1)
    result = train(mart_db, config, artifacts_dir=tmp_path)
    verdict, precisions = recompute(mart_db, result.run_id)
    assert verdict == result.verdict and precisions == result.record.precisions
    assert result.artifacts is not None
    saved = read_oof(pq.read_table(result.artifacts / OOF_FILE), "random_forest")
    assert decide(saved, 200, 0) == result.verdict
    assert label_precisions(saved, result.matrix.label_names, 200, 0) == precisions
    with duckdb.connect(str(mart_db), read_only=True) as con:
        frames = con.execute(
            "select count(*), count(distinct (source_file, utterance_id, unit_index)), "
            "bool_and(o.truth = list_transform(r.labels, lambda l: "
            "  list_contains(m.labels, l)::utinyint)) "
            "from ml_oof_predictions o join ml_runs r using (run_id) "
            "join ml_frame_matrix m using (source_file, utterance_id) "
            "where m.frame_index = o.unit_index"
        ).fetchone()
        low = con.execute("select verdict_all_positive_difference_low from ml_runs"
                          ).fetchone()
    assert frames == (960, 960, True)
    assert low == (result.verdict.all_positive_difference.low,)


@pytest.mark.parametrize("shares", [False, True])
def test_permutation_importance_is_scikit_learns_once_per_distinct_row(
    matrix: FrameMatrix, shares: bool
) -> None:
    """The fold's importance, computed once per distinct (row, column, value), equals
    `sklearn.inspection.permutation_importance` of the same model on the test frames, bit
    for bit: 0/1 frames, and sign tokens' shares."""
    from sklearn.inspection import permutation_importance

    from ml.collapse import distinct_inputs
    from ml.importance import held_out_importance, plan_shuffles

    rows = unique_rows(matrix.X, matrix.Y)
    train_idx, test_idx = plan_folds(CV.story, 3, 0, matrix.n_frames,
                                     {CV.story: matrix.story}).splits[0]
    forest = fit_forest_on_rows(FAST, rows, train_idx)
    X_test = matrix.X.toarray()[test_idx].astype(np.float32)
    if shares:
        X_test *= np.random.default_rng(2).choice([0.25, 0.5, 1.0], size=X_test.shape)
    truth = matrix.Y[test_idx]
    first, own = distinct_inputs(X_test)
    shuffles = plan_shuffles(X_test[first], own, 3, 4)
    assert np.array_equal(shuffles.inputs[shuffles.own], X_test)
    ours = held_out_importance(shuffles, predict(forest, shuffles.inputs), truth)
    theirs = permutation_importance(
        forest, X_test, truth, n_repeats=3, random_state=4,
        scoring=lambda model, X, y: micro_f1(y, predict(model, X)),
    )
    assert np.array_equal(ours.mean, theirs.importances_mean)
    assert np.array_equal(ours.std, theirs.importances_std)
    if not shares:  # 6 binary inputs: at most 64 rows to predict; sklearn asks 3 x 6 x 320
        assert len(shuffles.inputs) <= 2 ** X_test.shape[1]


def test_held_out_importance_finds_the_inputs_the_labels_depend_on(
    matrix: FrameMatrix,
) -> None:
    outcome = _outcome(matrix)
    assert outcome.permutation_importance is not None
    mean, _ = outcome.permutation_importance
    top = matrix.feature_names[int(np.argmax(mean))]
    assert top in ("AU1 unit", "AU2 unit")  # lab:brow is AU1 and AU2 together


def test_logreg_on_collapsed_rows_is_the_per_frame_fit(matrix: FrameMatrix) -> None:
    from ml.model import make_logreg

    rows = unique_rows(matrix.X, matrix.Y)
    frames = np.arange(0, matrix.n_frames, 2)
    collapsed = fit_logreg_on_rows(0, rows, frames)
    per_frame = make_logreg(0).fit(matrix.X.toarray()[frames], matrix.Y[frames])
    for a, b in zip(collapsed.estimators_, per_frame.estimators_, strict=True):
        assert np.allclose(a.coef_, b.coef_, atol=1e-4)
        assert np.allclose(a.intercept_, b.intercept_, atol=1e-4)
    outcome = cross_validate(matrix, TrainConfig(cv=CV.story, folds=3, model=Model.logreg,
                                                 importance_repeats=1))
    assert set(outcome.reports) == {"logreg", "stratified", "majority", "all_positive"}


def test_a_logreg_run_is_recorded_and_saved(mart_db: Path, tmp_path: Path) -> None:
    result = train(mart_db, TrainConfig(model=Model.logreg, folds=3, resamples=20,
                                        importance_repeats=1), artifacts_dir=tmp_path)
    assert result.verdict.sentence("logistic regression").startswith(
        "Verdict: logistic regression is "
    )
    assert result.artifacts is not None
    model = load_model(result.artifacts)
    X = result.matrix.X.toarray()
    assert np.array_equal(model.predict(X), fit_logreg_on_rows(0, unique_rows(
        result.matrix.X, result.matrix.Y), np.arange(result.matrix.n_frames)).predict(X))
    con = duckdb.connect(str(mart_db), read_only=True)
    assert con.execute("select model, count(*), min(verdict) from ml_runs group by model"
                       ).fetchall() == [("logreg", 1, result.record.run_row()["verdict"])]
    assert result.record.run_row()["verdict"].startswith("Verdict: logistic regression is ")
    assert [k for (k,) in con.execute("select distinct kind from ml_feature_importance")
            .fetchall()] == ["permutation"]
    con.close()


def test_label_sets_are_named_and_sized(mart_db: Path) -> None:
    study = labelsets.parse("study")
    assert len(study.labels or ()) == 18 == len(set(STUDY_LABELS))
    assert all(label.startswith("empath:") for label in STUDY_LABELS)
    assert labelsets.parse(None).describe(43) == "all (43 labels)"
    assert study.describe(18) == "study (18 labels)"
    assert study.describe(16) == "study (16 of 18 labels present)"
    present = labelsets.resolve(study, ["empath:fear", "nrc:joy", "empath:love"])
    assert present == ["empath:love", "empath:fear"]
    with pytest.raises(SignAffectError, match="none of the 18 study labels"):
        labelsets.resolve(study, ["lab:brow"])
    result = train(mart_db, TrainConfig(label_set=labelsets.parse("lab:brow,lab:story"),
                                        folds=3, forest=FAST, resamples=20,
                                        importance_repeats=1), write=False)
    assert result.label_set == "custom (2 labels)"


def test_story_permutation_keeps_lengths_and_moves_whole_tracks(matrix: FrameMatrix) -> None:
    from ml.permutation import p_value, shuffle_stories

    shuffled = shuffle_stories(matrix, np.random.default_rng(0))
    assert shuffled.Y.shape == matrix.Y.shape and np.array_equal(shuffled.story, matrix.story)
    story_label = matrix.label_names.index("lab:story")
    per_story = {
        s: tuple(np.unique(shuffled.Y[matrix.story == s, story_label])) for s in
        np.unique(matrix.story)
    }
    assert sum(v == (1,) for v in per_story.values()) == 2  # the 2 labelled stories, moved
    calls: list[int] = []
    p = p_value(matrix, 0.5, lambda m: calls.append(1) or 0.0, permutations=4, seed=0)
    assert p == pytest.approx(1 / 5) and len(calls) == 4


def test_old_result_tables_are_migrated(mart_db: Path) -> None:
    con = duckdb.connect(str(mart_db))
    con.execute("create table ml_runs (run_id varchar primary key, cv varchar, "
                "random_forest_micro_f1 double)")
    con.execute("insert into ml_runs values ('old', 'kfold', 0.5)")
    con.execute("create table ml_feature_importance (run_id varchar, feature varchar, "
                "importance double, rank integer, primary key (run_id, feature))")
    con.execute("insert into ml_feature_importance values ('old', 'AU1', 0.3, 1)")
    con.close()
    train(mart_db, TrainConfig(folds=3, forest=FAST, resamples=20, importance_repeats=1))
    con = duckdb.connect(str(mart_db), read_only=True)
    assert con.execute("select model, model_micro_f1 from ml_runs where run_id = 'old'"
                       ).fetchall() == [("random_forest", 0.5)]
    assert con.execute("select kind from ml_feature_importance where run_id = 'old'"
                       ).fetchall() == [("impurity",)]
    assert con.execute("select count(*) from ml_runs").fetchone() == (2,)
    con.close()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_forest_grown_in_parts_predicts_as_the_whole_forest(
    matrix: FrameMatrix, n_jobs: int
) -> None:
    """Training holds a few trees at a time (threads growing the next ones meanwhile): the
    parts' predictions, impurity importances and saved model are the whole forest's."""
    from ml.bagging import grow_in_batches
    from ml.lookup import forest_predictions
    from ml.model import make_forest
    from ml.train import final_fit

    rows = unique_rows(matrix.X, matrix.Y)
    train_idx = np.arange(0, matrix.n_frames, 3)
    whole = fit_forest_on_rows(FAST, rows, train_idx)
    dense = matrix.X.toarray().astype(np.float32)
    settings = dataclasses.replace(FAST, n_jobs=n_jobs)
    parts = grow_in_batches(make_forest(settings), rows, train_idx, 4)
    answers, scores = forest_predictions(parts, dense)
    assert np.array_equal(answers, predict(whole, dense))
    assert np.array_equal(scores, positive_scores(whole, dense))
    everything = fit_forest_on_rows(FAST, rows, np.arange(matrix.n_frames))
    saved: list[RandomForestClassifier] = []
    impurity = final_fit(matrix, TrainConfig(forest=settings), rows,
                         lambda part, index: saved.append(part))
    assert dict(impurity) == pytest.approx(
        dict(zip(matrix.feature_names, everything.feature_importances_, strict=True))
    )
    assert [len(p.estimators_) for p in saved] == [10, 5]
    joined = [t.tree_.threshold.tolist() for p in saved for t in p.estimators_]
    assert joined == [t.tree_.threshold.tolist() for t in everything.estimators_]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_grove_grows_each_forest_as_if_alone(
    matrix: FrameMatrix, n_jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One grove grows a run's forests in turn (the next one's first trees while the caller
    still predicts with the last): each is the forest grown alone, tree for tree, and its
    predictions, summed over chunks of rows a part at a time, are the whole forest's."""
    import ml.lookup
    from ml.lookup import forest_predictions
    from ml.model import grow_forests

    monkeypatch.setattr(ml.lookup, "_CHUNK_ROWS", 100)  # several chunks of the 960 frames
    rows = unique_rows(matrix.X, matrix.Y)
    dense = matrix.X.toarray().astype(np.float32)
    n = matrix.n_frames
    frame_sets = [np.arange(0, n, 2), np.arange(1, n, 3), np.arange(n)]
    with grow_forests(dataclasses.replace(FAST, n_jobs=n_jobs), rows, frame_sets) as grove:
        for frames in frame_sets:
            alone = fit_forest_on_rows(FAST, rows, frames)
            parts = list(grove.forest(frames))
            assert [t.tree_.threshold.tolist() for p in parts for t in p.estimators_] == [
                t.tree_.threshold.tolist() for t in alone.estimators_
            ]
            answers, scores = forest_predictions(iter(parts), dense)
            assert np.array_equal(answers, predict(alone, dense))
            assert np.array_equal(scores, positive_scores(alone, dense))
        with pytest.raises(ValueError, match="in the order"):
            grove.forest(frame_sets[0])


def test_a_grove_hands_out_its_forests_in_order(matrix: FrameMatrix) -> None:
    from ml.model import grow_forests

    rows = unique_rows(matrix.X, matrix.Y)
    first, second = np.arange(0, 500), np.arange(500, matrix.n_frames)
    with (grow_forests(FAST, rows, [first, second]) as grove,
          pytest.raises(ValueError, match="in the order")):
        grove.forest(second)


@pytest.mark.parametrize(("labels", "max_depth"), [(None, None), (None, 3), (1, None)])
def test_a_tree_grown_without_fit_is_fits_tree(
    matrix: FrameMatrix, labels: int | None, max_depth: int | None
) -> None:
    """`ml.bagging` grows a forest's trees with what `fit` works out once per forest:
    every tree is `DecisionTreeClassifier.fit`'s on the same rows and weights, to the bit
    (nodes, values, classes and their dtypes), for several labels or one."""
    from sklearn.tree import DecisionTreeClassifier

    from ml.bagging import _encode, _Grower

    rows = unique_rows(matrix.X, matrix.Y[:, :labels])
    Y = _encode(rows.Y)
    forest_tree = {"max_depth": max_depth, "max_features": "sqrt"}  # as a forest's trees
    grower = _Grower.of(DecisionTreeClassifier(**forest_tree), rows.X, Y)
    weight = np.random.default_rng(3).integers(0, 4, len(Y)).astype(np.float64)
    for seed in (0, 7):
        ours = grower.grow(DecisionTreeClassifier(**forest_tree, random_state=seed),
                           rows.X, weight)
        theirs = DecisionTreeClassifier(**forest_tree, random_state=seed).fit(
            rows.X, Y if labels is None else Y.ravel(), sample_weight=weight,
            check_input=False)
        state, expected = ours.__getstate__(), theirs.__getstate__()
        tree = state.pop("tree_").__getstate__()
        expected_tree = expected.pop("tree_").__getstate__()
        assert tree.keys() == expected_tree.keys()
        assert all(np.array_equal(tree[k], expected_tree[k]) for k in tree)
        assert state.keys() == expected.keys()
        for key in state:
            ours_v, theirs_v = state[key], expected[key]
            assert type(ours_v) is type(theirs_v), key
            for a, b in zip(*(v if isinstance(v, list) else [v] for v in (ours_v, theirs_v)),
                            strict=True):
                assert np.array_equal(a, b) and getattr(a, "dtype", None) == getattr(
                    b, "dtype", None), key
    with pytest.raises(ValueError, match="defaults"):
        _Grower.of(DecisionTreeClassifier(**forest_tree, min_samples_leaf=2), rows.X, Y)


def test_the_sign_grain_is_one_row_per_token_with_shares(sample_db: Path) -> None:
    tokens = load_matrix(sample_db, Grain.sign)
    with duckdb.connect(str(sample_db), read_only=True) as con:
        n_tokens = con.execute("select count(*) from fct_sign_tokens").fetchone()
        token, feature, share = con.execute(
            "select sign_token_id, feature, share_active from fct_sign_token_features "
            "where feature_kind = 'au' and share_active < 1 order by sign_token_id, feature "
            "limit 1"
        ).fetchone() or (None, None, None)
        order = [r[0] for r in con.execute(
            "select sign_token_id from ml_sign_token_matrix "
            "order by source_file, utterance_id, annotation_id").fetchall()]
        labels = con.execute(
            "select lexical_labels from fct_sign_tokens where sign_token_id = ?", [token]
        ).fetchone()
    assert n_tokens == (tokens.n_frames,)
    row = order.index(token)
    cell = tokens.X[row, tokens.feature_names.index(feature)]
    assert cell == pytest.approx(share) and 0 < cell < 1
    assert labels is not None
    assert [tokens.label_names[k] for k in np.flatnonzero(tokens.Y[row])] == labels[0]
    # tokens with the same action units but other shares stay apart
    rows = unique_rows(tokens.X, tokens.Y)
    assert rows.n_unique == len({(tuple(x), tuple(y)) for x, y in
                                 zip(tokens.X.toarray(), tokens.Y, strict=True)})
    result = train(sample_db, TrainConfig(grain=Grain.sign, folds=3, forest=FAST,
                                          resamples=50, importance_repeats=1),
                   write=False)  # the session's sample warehouse stays free of runs
    assert result.verdict.sentence("random forest").startswith("Verdict: random forest is ")
    assert result.record.run_row()["grain"] == "sign"


def test_run_leads_with_the_grouped_verdict(mart_db: Path) -> None:
    from read.training_tables import grouped_then_kfold

    quick = {"folds": 3, "forest": FAST, "resamples": 20, "importance_repeats": 1}
    grouped = train(mart_db, TrainConfig(cv=CV.story, **quick), write=False)
    kfold = train(mart_db, TrainConfig(cv=CV.kfold, **quick), write=False)
    lines = grouped_then_kfold(grouped, kfold)
    assert lines[0].startswith("train --cv story") and lines[1].startswith("Verdict: ")
    assert lines[2] == "labels: all (3 labels)"
    story_f1 = grouped.outcome.reports["random_forest"].averages["micro"].f1
    assert f"against {story_f1:.3f} story-grouped; kfold leaks" in lines[-1]
