"""What the report shows, read from the warehouse read-only, as Arrow tables.

One function per section. Nothing here formats or draws: `figures` and `render` do that.
Missing optional parts (no training run, no lexical labels) become `None` plus a note, never
an error; a warehouse without the public marts is an error the CLI reports in one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from read.associations import TopFeatures, top_features
from read.queries import HEADLINE_SQL
from read.report.analyses import Analyses
from read.report.measured import MeasuredVsCoded, load_measured
from signaffect.core.build_settings import project_vars
from signaffect.core.choices import FAMILIES
from signaffect.core.errors import SignAffectError
from signaffect.core.versions import package_versions
from signaffect.core.warehouse import connect_marts, table_exists

#: The labels the report ranks features for, when present in the association mart.
DEFAULT_LABELS = ("empath:negative_emotion", "empath:confusion")
#: The feature kinds of each count chart.
COUNT_CHARTS = {
    "signstream_counts": (
        ("facial", "head", "grammatical"),
        "SignStream features (facial, head, grammatical)",
    ),
    "au_counts": (("au",), "FACS action units"),
    "lexical_counts": (("lexical",), "Lexical emotion labels"),
}
#: The grain of the report's association tables and heatmap.
ASSOCIATION_GRAIN = "sign"
#: Kinds of the heatmap's rows and how many of each axis it shows.
HEATMAP_KINDS = ("facial", "head")
HEATMAP_FEATURES = 15
HEATMAP_LABELS = 12
#: Grouped CV modes, in the order the comparison lists them after kfold.
CV_ORDER = ("kfold", "story", "utterance", "signer")
ML_TABLES = ("ml_runs", "ml_label_metrics", "ml_feature_importance")
#: Top features per importance kind in the report.
TOP_IMPORTANCES = 15


@dataclass(frozen=True)
class CountChart:
    """One count chart: features of `kinds`, most frequent first (feature, kind, n_frames)."""

    key: str
    title: str
    kinds: tuple[str, ...]
    table: pa.Table


@dataclass(frozen=True)
class Training:
    """The newest grouped-CV run (the lead), and runs of other CV modes beside it.

    A kfold run never leads: its scores leak, so they are only shown beside a grouped run
    of the same data and model.
    """

    latest: dict[str, Any]
    #: ml_runs rows compared side by side (kfold first), the lead among them.
    runs: list[dict[str, Any]]
    #: The lead run per label: label, support, precision, recall, f1, stratified_f1,
    #: majority_f1, beats_prior (the trained model unless named).
    per_label: pa.Table
    #: label, support and the model's F1 under each compared run (columns f1_<run_id>).
    per_label_compared: pa.Table | None
    #: The lead run's top features per kind: kind, rank, feature, importance,
    #: importance_std (kind permutation = held-out folds, impurity = final fit).
    importances: pa.Table
    #: The lead run per fold: fold, n_frames, n_stories, model_f1, stratified_f1,
    #: majority_f1 (micro); None for runs older than ml_fold_metrics.
    folds: pa.Table | None


@dataclass(frozen=True)
class Provenance:
    files: pa.Table
    lexicons: pa.Table
    dbt_vars: list[tuple[str, str, str]]
    versions: dict[str, str]
    generated_at: datetime
    db: Path


@dataclass
class ReportData:
    """Everything one report shows."""

    headline: pa.Table
    counts: list[CountChart]
    labels: list[str]
    label_note: str
    #: (label, family) -> ranked rows at ASSOCIATION_GRAIN, with their caption.
    top: dict[tuple[str, str], TopFeatures]
    heatmap: pa.Table | None
    training: Training | None
    training_note: str
    provenance: Provenance
    k: int = 10
    notes: list[str] = field(default_factory=list)
    #: The grammar, signer and timing sections (`report.analyses.load_analyses`, which
    #: `render.write_report` runs while the other figures are drawn).
    analyses: Analyses | None = None
    #: The "Measured vs coded" section (`cli.py agree` rows).
    measured: MeasuredVsCoded | None = None


def load(db: Path, labels: Sequence[str] | None = None, top_n: int = 25, k: int = 10) -> ReportData:
    """Read every section of the report from `db` (read-only) but the analyses."""
    if top_n < 1 or k < 1:
        raise SignAffectError("top_n and k must be at least 1", "pass --top 25 --k 10")
    con = connect_marts(db, refuse_stale=True)
    try:
        _require_marts(con, db)
        headline = _arrow(con, HEADLINE_SQL)
        counts = [
            CountChart(key, title, kinds, feature_counts(con, kinds, top_n))
            for key, (kinds, title) in COUNT_CHARTS.items()
        ]
        chosen, note = choose_labels(con, labels)
        training, training_note = training_runs(con)
        provenance = provenance_block(con, db)
        heatmap = heatmap_cells(con, chosen) if chosen or _n_lexical(con) else None
        measured = load_measured(con)
    finally:
        con.close()
    # top_features opens its own read-only connection and validates the label.
    top = {
        (label, family): top_features(db, label, grain=ASSOCIATION_GRAIN, family=family, k=k)
        for label in chosen
        for family in FAMILIES
    }
    return ReportData(
        headline=headline,
        counts=counts,
        labels=chosen,
        label_note=note,
        top=top,
        heatmap=heatmap,
        training=training,
        training_note=training_note,
        provenance=provenance,
        k=k,
        measured=measured,
    )


def _require_marts(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    missing = [
        t
        for t in (
            "fct_frames",
            "fct_frame_features",
            "dim_features",
            "fct_label_feature_associations",
        )
        if not table_exists(con, "main", t)
    ]
    if missing:
        raise SignAffectError(
            f"{db} has no {', '.join(missing)}",
            "run `cli.py build` (or `cli.py run`) to build the warehouse first",
        )


def _arrow(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> pa.Table:
    return con.sql(sql, params=params or None).to_arrow_table()


def feature_counts(con: duckdb.DuckDBPyConnection, kinds: Sequence[str], n: int) -> pa.Table:
    """The `n` features of `kinds` active in most frames (ties by name)."""
    return _arrow(
        con,
        """
        select feature, feature_kind, n_frames, n_utterances, n_stories
        from dim_features
        where list_contains($kinds, feature_kind)
        order by n_frames desc, feature
        limit $n
        """,
        {"kinds": list(kinds), "n": n},
    )


def _n_lexical(con: duckdb.DuckDBPyConnection) -> int:
    rows = con.execute(
        "select count(*) from dim_features where feature_kind = 'lexical'"
    ).fetchall()
    return int(rows[0][0])


def choose_labels(
    con: duckdb.DuckDBPyConnection, labels: Sequence[str] | None
) -> tuple[list[str], str]:
    """The labels to rank features for, and a sentence saying how they were chosen.

    Explicit labels are kept as given (top_features reports unknown ones). Otherwise the
    defaults that have tested pairs at the report's grain, else the two most frequent
    lexical labels that do.
    """
    if labels:
        return list(labels), "Labels chosen by the caller."
    paired = {
        row[0]
        for row in con.execute(
            "select distinct label from fct_label_feature_associations where grain = $grain",
            {"grain": ASSOCIATION_GRAIN},
        ).fetchall()
    }
    defaults = [label for label in DEFAULT_LABELS if label in paired]
    if defaults:
        missing = [label for label in DEFAULT_LABELS if label not in defaults]
        absent = (
            f" ({', '.join(missing)} has too few labelled sign tokens to test.)" if missing else ""
        )
        return defaults, f"The default labels ({', '.join(defaults)}).{absent}"
    frequent = [
        row[0]
        for row in con.execute(
            "select feature from dim_features where feature_kind = 'lexical' "
            "order by n_frames desc, feature"
        ).fetchall()
        if row[0] in paired
    ][:2]
    if frequent:
        return frequent, (
            "The default labels are absent from this warehouse; these are its most "
            "frequent lexical labels."
        )
    return [], (
        "This warehouse has no lexical label with tested pairs in fct_label_feature_associations."
    )


_HEATMAP_SQL = """
with

associations as (
    select * from fct_label_feature_associations
    where grain = $grain
),

grid as (
    select f.feature, f.feature_order, l.label, l.label_order,
    from unnest($features) with ordinality as f(feature, feature_order)
    cross join unnest($labels) with ordinality as l(label, label_order)
),

base_rates as (
    select feature, max(p_feature) as p_feature,
    from associations
    group by feature
),

-- The label's tokens in every file (a row's n_label counts only files coding its feature).
label_sizes as (
    select label, any_value(n_label_all) as n_label_all,
    from associations
    group by label
),

final as (
    select
        grid.feature,
        grid.label,
        base_rates.p_feature,
        associations.n_both,
        label_sizes.n_label_all,
        associations.lift,
    from grid
    left join associations
        on grid.feature = associations.feature and grid.label = associations.label
    left join base_rates on grid.feature = base_rates.feature
    left join label_sizes on grid.label = label_sizes.label
    order by grid.feature_order, grid.label_order
)

select * from final
"""


def heatmap_cells(con: duckdb.DuckDBPyConnection, chosen: Sequence[str]) -> pa.Table | None:
    """Lift at the report's grain for the most frequent facial/head features x the chosen
    labels and the most frequent other lexical labels: one row per cell (feature, label,
    p_feature, n_both, n_label_all, lift), read from `fct_label_feature_associations` as stored,
    lift null where the pair was not tested (too few signs together, or in too few stories)."""
    features, labels = _heatmap_axes(con, chosen)
    if not features or not labels:
        return None
    return _arrow(
        con, _HEATMAP_SQL, {"features": features, "labels": labels, "grain": ASSOCIATION_GRAIN}
    )


def _heatmap_axes(
    con: duckdb.DuckDBPyConnection, chosen: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The heatmap's rows (tested facial/head features, most frequent first) and columns
    (the chosen labels, then the other tested labels by frequency)."""
    features = [
        row[0]
        for row in con.execute(
            "select feature from dim_features where list_contains($kinds, feature_kind) "
            "and role = 'face' "
            "and feature in (select feature from fct_label_feature_associations "
            "where grain = $grain) order by n_frames desc, feature limit $n",
            {"kinds": list(HEATMAP_KINDS), "n": HEATMAP_FEATURES, "grain": ASSOCIATION_GRAIN},
        ).fetchall()
    ]
    tested = [
        row[0]
        for row in con.execute(
            "select feature from dim_features where feature_kind = 'lexical' "
            "and feature in (select label from fct_label_feature_associations "
            "where grain = $grain) order by n_frames desc, feature",
            {"grain": ASSOCIATION_GRAIN},
        ).fetchall()
    ]
    labels = list(dict.fromkeys([*[c for c in chosen if c in tested], *tested]))
    return features, labels[:HEATMAP_LABELS]


#: What makes two runs comparable: the same model on the same data.
_SAME_DATA = ("model", "grain", "scope", "input_kinds", "target_kind", "labels", "n_frames")


def training_runs(con: duckdb.DuckDBPyConnection) -> tuple[Training | None, str]:
    """The lead (newest grouped) run and its CV comparison, or None and why."""
    rows, why = _recorded_runs(con)
    grouped = [run for run in rows if run["cv"] != "kfold"]
    if not grouped:
        return None, why or (
            "Only frame-level kfold runs are recorded. Their scores leak (frames of one story "
            "are in both train and test), and this report shows no kfold number without a "
            "grouped number beside it: run `cli.py train` (story-grouped CV) to add one."
        )
    latest = grouped[0]
    compared = _compared_runs(rows, latest)
    run_id, model = latest["run_id"], latest["model"]
    training = Training(
        latest,
        compared,
        _per_label(con, run_id, model),
        _per_label_compared(con, [r["run_id"] for r in compared], model),
        _importances(con, run_id),
        _folds(con, run_id, model),
    )
    return training, ""


def _recorded_runs(con: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], str]:
    """Every ml_runs row, newest first, in current names; or none and why."""
    missing = [t for t in ML_TABLES if not table_exists(con, "main", t)]
    if missing:
        return [], (
            f"No training run is recorded in this warehouse (no {', '.join(missing)} table). "
            "Run `cli.py train` (story-grouped CV) to add one."
        )
    runs = con.execute("select * from ml_runs order by created_at desc, run_id desc")
    columns = [d[0] for d in runs.description or []]
    rows = [_current_names(dict(zip(columns, row, strict=True))) for row in runs.fetchall()]
    if not rows:
        return [], "The ml_runs table is empty: run `cli.py train` to add a run."
    return rows, ""


def _compared_runs(rows: list[dict[str, Any]], latest: dict[str, Any]) -> list[dict[str, Any]]:
    """The newest run of each CV mode on the lead's data and model, kfold first."""
    newest_per_cv: dict[str, dict[str, Any]] = {}
    for run in rows:
        if all(run.get(key) == latest.get(key) for key in _SAME_DATA):
            newest_per_cv.setdefault(run["cv"], run)
    newest_per_cv[latest["cv"]] = latest
    return sorted(
        newest_per_cv.values(),
        key=lambda r: CV_ORDER.index(r["cv"]) if r["cv"] in CV_ORDER else len(CV_ORDER),
    )


def _per_label(con: duckdb.DuckDBPyConnection, run_id: str, model: str) -> pa.Table:
    """The lead run per label beside the stratified and majority baselines, with its
    average precision beside the label's prevalence (runs before them: empty)."""
    beats = (
        "bool_or(beats_prior)"
        if _has_column(con, "ml_label_metrics", "beats_prior")
        else "null::boolean"
    )
    ap = (
        "max(average_precision) filter (where model = $model) as average_precision, "
        "coalesce(max(printf('[%.3f, %.3f]', average_precision_low, average_precision_high)) "
        "filter (where model = $model), '') as ap_interval, "
        "max(prevalence) filter (where model = $model) as prevalence, "
        "coalesce(max(ap_reading) filter (where model = $model), '') as ap_reading,"
        if _has_column(con, "ml_label_metrics", "average_precision")
        else "null::double as average_precision, '' as ap_interval, "
        "null::double as prevalence, '' as ap_reading,"
    )
    return _arrow(
        con,
        f"""
        select
            label,
            max(support) filter (where model = $model) as support,
            max(precision) filter (where model = $model) as precision,
            max(recall) filter (where model = $model) as recall,
            max(f1) filter (where model = $model) as f1,
            max(f1) filter (where model = 'stratified') as stratified_f1,
            max(f1) filter (where model = 'majority') as majority_f1,
            {beats} as beats_prior,
            {ap}
        from ml_label_metrics
        where run_id = $run and not is_average
        group by label
        order by support desc, label
        """,
        {"run": run_id, "model": model},
    )


def _per_label_compared(
    con: duckdb.DuckDBPyConnection, ids: list[str], model: str
) -> pa.Table | None:
    """The model's F1 per label under each compared run; None with one run alone."""
    if len(ids) < 2:
        return None
    pivot = ", ".join(
        f"max(f1) filter (where run_id = '{run_id}') as \"f1_{run_id}\"" for run_id in ids
    )
    return _arrow(
        con,
        f"""
        select label, max(support) as support, {pivot}
        from ml_label_metrics
        where list_contains($ids, run_id) and model = $model and not is_average
        group by label
        order by support desc, label
        """,
        {"ids": ids, "model": model},
    )


def _importances(con: duckdb.DuckDBPyConnection, run_id: str) -> pa.Table:
    """The run's top features per importance kind (older runs: impurity, no spread)."""
    kind = "kind" if _has_column(con, "ml_feature_importance", "kind") else "'impurity'"
    spread = (
        "importance_std"
        if _has_column(con, "ml_feature_importance", "importance_std")
        else "null::double"
    )
    return _arrow(
        con,
        f"""
        select {kind} as kind, rank, feature, importance, {spread} as importance_std,
        from ml_feature_importance
        where run_id = $run and rank <= $top
        order by kind desc, rank
        """,
        {"run": run_id, "top": TOP_IMPORTANCES},
    )


def _folds(con: duckdb.DuckDBPyConnection, run_id: str, model: str) -> pa.Table | None:
    """The run per fold with its baselines; None for runs older than ml_fold_metrics."""
    if not table_exists(con, "main", "ml_fold_metrics"):
        return None
    folds = _arrow(
        con,
        """
        select
            fold,
            max(n_frames) filter (where model = $model) as n_frames,
            max(n_stories) filter (where model = $model) as n_stories,
            max(f1) filter (where model = $model) as model_f1,
            max(f1) filter (where model = 'stratified') as stratified_f1,
            max(f1) filter (where model = 'majority') as majority_f1,
        from ml_fold_metrics
        where run_id = $run
        group by fold
        order by fold
        """,
        {"run": run_id, "model": model},
    )
    return folds if folds.num_rows else None


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Whether main.`table` has `column` (older warehouses lack the newer ml_* columns)."""
    return column in {row[0] for row in con.execute(f'describe main."{table}"').fetchall()}


def _current_names(run: dict[str, Any]) -> dict[str, Any]:
    """An ml_runs row as the current version names it (older runs: random_forest_*)."""
    out = {
        (f"model_{k.removeprefix('random_forest_')}" if k.startswith("random_forest_") else k): v
        for k, v in run.items()
    }
    out.setdefault("model", "random_forest")
    out.setdefault("grain", "frame")
    return out


def provenance_block(con: duckdb.DuckDBPyConnection, db: Path) -> Provenance:
    """Corpus files and hashes, lexicons and their hits, recorded dbt vars, versions, date."""
    files = _arrow(
        con, "select source_file, content_hash, n_bytes from dim_source_files order by 1"
    )
    lexicons = (
        _arrow(con, "select * from dim_lexicons order by lexicon")
        if table_exists(con, "main", "dim_lexicons")
        else pa.table({"lexicon": pa.array([], pa.string())})
    )
    return Provenance(
        files=files,
        lexicons=lexicons,
        dbt_vars=_recorded_vars(con),
        versions=package_versions(),
        generated_at=datetime.now(UTC).replace(microsecond=0),
        db=db,
    )


def _recorded_vars(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """Every dbt var of the last build (frame convention, lexical scope, resamples, ...),
    from the mart `dim_build_settings`, each said to be dbt_project.yml's default or not."""
    if not table_exists(con, "main", "dim_build_settings"):
        return []
    table = con.sql("select * from dim_build_settings").to_arrow_table().to_pylist()
    if not table:
        return []
    defaults = project_vars()
    return [
        (name, ", ".join(map(str, value)) if isinstance(value, list) else str(value),
         "dbt_project.yml default" if value == defaults.get(name) else "set for this build")
        for name, value in table[0].items()
    ]
