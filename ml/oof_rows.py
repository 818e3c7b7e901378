"""The out-of-fold predictions as stored rows, and the verdict recomputed from them.

A run's pooled predictions (`ml.oof`) are stored one row per test frame (or sign token):
its run, fold, story and key in the mart, its labels (`truth`), the model's 0/1
`prediction` and `score` (P(label)), and the baselines' predictions. Lists are aligned with
the run's `ml_runs.labels`; the all-positive baseline predicts 1 everywhere and is not
stored. The rows go to `oof_predictions.parquet` in the run's artefact folder and to the
warehouse table `ml_oof_predictions`, so the verdict and the per-label average precisions
can be recomputed from either (`recompute`), with the run's seed and resample count.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ml.oof import ALL_POSITIVE, MAJORITY, STRATIFIED, OutOfFold, Predictions
from ml.precision import LabelPrecision, label_precisions
from ml.verdict import Verdict, decide
from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import connect, table_exists

OOF_TABLE = "ml_oof_predictions"
OOF_FILE = "oof_predictions.parquet"
#: Columns of the stored rows and their DuckDB types.
OOF_COLUMNS: dict[str, str] = {
    "run_id": "varchar",
    "fold": "integer",
    "story": "varchar",
    "source_file": "varchar",
    "utterance_id": "bigint",
    "unit_index": "bigint",  # frame_index (frame grain) or annotation_id (sign grain)
    "truth": "utinyint[]",
    "prediction": "utinyint[]",
    "score": "float[]",
    "stratified_prediction": "utinyint[]",
    "majority_prediction": "utinyint[]",
}


def oof_rows(run_id: str, oof: OutOfFold, units: pa.Table | None) -> pa.Table:
    """One row per test frame (token) of `oof`; `units` holds every matrix row's key
    (`FrameMatrix.units`, set by `ml.data.encode`)."""
    model = oof.per_frame(oof.model)
    if model.score is None or units is None:
        raise ValueError("stored rows need the model's scores and the matrix's row keys")
    keys = units.take(pa.array(oof.frames))
    n = len(oof.frames)
    columns = {
        "run_id": pa.array([run_id] * n, pa.string()),
        "fold": pa.array(model.fold.astype(np.int32)),
        "story": pa.array(np.asarray(oof.stories, dtype=object)[model.story], pa.string()),
        "source_file": keys.column(0),
        "utterance_id": keys.column(1),
        "unit_index": keys.column(2),
        "truth": _lists(model.y_true, pa.uint8()),
        "prediction": _lists(model.y_pred, pa.uint8()),
        "score": _lists(model.score, pa.float32()),
        "stratified_prediction": _lists(oof.per_frame(STRATIFIED).y_pred, pa.uint8()),
        "majority_prediction": _lists(oof.per_frame(MAJORITY).y_pred, pa.uint8()),
    }
    return pa.table(columns)


def _lists(cells: np.ndarray, kind: pa.DataType) -> pa.ListArray:
    """Rows x labels as one list per row."""
    n, width = cells.shape
    offsets = pa.array(np.arange(n + 1, dtype=np.int32) * width)
    return pa.ListArray.from_arrays(offsets, pa.array(cells.ravel(), kind))


def saved_rows(folder: Path) -> pa.Table | None:
    """The rows a run saved in its artefact folder; None for runs saved before them."""
    path = folder / OOF_FILE
    return pq.read_table(path) if path.exists() else None


def read_oof(rows: pa.Table, model: str) -> OutOfFold:
    """The pooled predictions that stored rows hold, one unit per frame (weight 1)."""
    stories, story = np.unique(rows.column("story").to_numpy(zero_copy_only=False),
                               return_inverse=True)
    fold = rows.column("fold").to_numpy()
    truth = _matrix(rows, "truth")

    def predictions(column: str, score: np.ndarray | None = None) -> Predictions:
        return Predictions(truth, _matrix(rows, column), np.ones(len(fold)), story.ravel(),
                           fold, score)

    stored = {
        model: predictions("prediction", _matrix(rows, "score")),
        STRATIFIED: predictions("stratified_prediction"),
        MAJORITY: predictions("majority_prediction"),
    }
    stored[ALL_POSITIVE] = stored[model].all_positive()
    every = np.arange(len(fold))
    return OutOfFold(model, list(stories), int(fold.max()) + 1, stored, every,
                     dict.fromkeys(stored, every))


def _matrix(rows: pa.Table, column: str) -> np.ndarray:
    values = pc.list_flatten(rows.column(column)).to_numpy()
    return values.reshape(rows.num_rows, -1)


def recompute(db: Path, run_id: str) -> tuple[Verdict, list[LabelPrecision]]:
    """The verdict and per-label average precisions of a recorded run, from its rows in
    `ml_oof_predictions` alone (with the seed, resamples and CV its `ml_runs` row names)."""
    con = connect(db, read_only=True)
    try:
        if not table_exists(con, "main", OOF_TABLE):
            raise SignAffectError(f"the warehouse has no {OOF_TABLE}",
                                  "run `cli.py train` with this version to store one")
        runs = con.execute(
            "select model, cv, seed, verdict_resamples, labels from main.ml_runs "
            "where run_id = ?", [run_id]
        ).fetchall()
        rows = con.sql(
            f"select * from main.{OOF_TABLE} where run_id = $run", params={"run": run_id}
        ).to_arrow_table()
    finally:
        con.close()
    if not runs or not rows.num_rows:
        raise SignAffectError(f"run {run_id} has no stored out-of-fold rows",
                              "runs recorded before ml_oof_predictions cannot be recomputed")
    model, cv, seed, resamples, labels = runs[0]
    oof = read_oof(rows, model)
    return decide(oof, resamples, seed, cv), label_precisions(oof, labels, resamples, seed)
