"""Terminal tables of a training result, on the read side: rich tables shaped like the
study's Table 3 (per-label scores) and Table 4 (importances).

This was `ml/report.py`; it reads a `TrainResult` and writes nothing, so it sits on the read
floor (it imports only core, stats and ml) and `ml/` keeps to training and recording. Kept
apart from cli.py so the layout can be tested and reused; cli.py only prints them. Every
run's output leads with its verdict, names its label set, and a kfold run says that it
leaks.
"""

from __future__ import annotations

from rich.table import Table

from ml.importance import IMPURITY, PERMUTATION
from ml.metrics import AVERAGES
from ml.oof import BASELINE_NAMES
from ml.options import MODEL_NAMES
from ml.precision import LabelPrecision
from ml.train import LEAK_WARNING, TrainResult
from ml.verdict import ABOVE

NO_SKILL = (
    "The model is not above both baselines: these importances describe a model with no "
    "demonstrated skill."
)


def model_name(result: TrainResult) -> str:
    return MODEL_NAMES[result.outcome.oof.model]


def verdict_lines(result: TrainResult) -> list[str]:
    """The verdict sentence, the label set, and for kfold the leak warning (first)."""
    lines = [result.verdict.sentence(model_name(result)), f"labels: {result.label_set}"]
    if result.outcome.plan.cv.value == "kfold":
        lines.insert(0, f"WARNING: {LEAK_WARNING}.")
    return lines


def grouped_then_kfold(grouped: TrainResult, kfold: TrainResult) -> list[str]:
    """`cli.py run`'s summary: the story-grouped verdict first, the kfold score only beside
    the grouped one."""
    micro = {
        r.outcome.plan.cv.value: r.outcome.reports[r.outcome.oof.model].averages["micro"].f1
        for r in (grouped, kfold)
    }
    return [
        f"train --cv {grouped.outcome.plan.cv.value} (run {grouped.run_id}):",
        *verdict_lines(grouped),
        f"beside it, the study's --cv kfold (run {kfold.run_id}): micro-F1 "
        f"{micro['kfold']:.3f} against {micro[grouped.outcome.plan.cv.value]:.3f} "
        f"{grouped.outcome.plan.cv.value}-grouped; kfold leaks (frames of one story in train "
        "and test), the grouped number generalises",
    ]


def describe_cv(result: TrainResult) -> str:
    """One line naming the cross-validation actually used."""
    plan = result.outcome.plan
    how = {
        "kfold": "shuffled frame-level KFold (the study's protocol; neighbouring frames leak)",
        "story": "GroupKFold by story (no story in both train and test)",
        "signer": "leave-one-signer-out (no signer in both train and test)",
        "utterance": "GroupKFold by utterance (no utterance in both train and test)",
    }[plan.cv.value]
    line = f"cv: {plan.n_folds} folds, {how}"
    return f"{line}; {plan.note}" if plan.note else line


def label_table(result: TrainResult) -> Table:
    """Table 3: per-label precision / recall / F1 / support, then the averages.

    The baselines' F1 sits beside the forest's on every row, and the average precision of
    its scores beside the label's prevalence (what a ranking that knows nothing scores),
    so each label can be read against chance at its own rate.
    """
    reports = result.outcome.reports
    forest = reports[result.outcome.oof.model]
    settings = result.matrix.settings
    table = Table(
        title=f"{model_name(result).capitalize()}, {', '.join(settings.input_kinds)} → "
        f"{settings.target_kind} labels {result.label_set} (scope {settings.lexical_scope}), "
        "pooled out-of-fold",
    )
    table.add_column("label", no_wrap=True)
    for name in ("P", "R", "F1", "support", "stratified F1", "majority F1", "beats prior",
                 "AP", "prevalence", "AP vs prevalence"):
        table.add_column(name, justify="right")
    precision = {p.label: p for p in result.record.precisions}
    baseline = {
        name: {s.label: s for s in reports[name].rows()} for name in ("stratified", "majority")
    }
    rows = forest.rows()
    for i, row in enumerate(rows):
        end_section = i == len(forest.per_label) - 1
        prior = baseline["stratified"][row.label].f1
        table.add_row(
            row.label,
            f"{row.precision:.2f}",
            f"{row.recall:.2f}",
            f"{row.f1:.2f}",
            f"{row.support}",
            f"{baseline['stratified'][row.label].f1:.2f}",
            f"{baseline['majority'][row.label].f1:.2f}",
            ("yes" if row.f1 > prior else "no") if i < len(forest.per_label) else "",
            *_precision_cells(precision.get(row.label)),
            end_section=end_section,
        )
    return table


def _precision_cells(label: LabelPrecision | None) -> list[str]:
    """AP [95% CI], prevalence and the reading of one label; blank for the averages."""
    if label is None:
        return ["", "", ""]
    ap = label.average_precision
    shown = "n/a" if ap is None else f"{ap.estimate:.3f} [{ap.low:.3f}, {ap.high:.3f}]"
    return [shown, f"{label.prevalence:.3f}", label.reading.removesuffix(" prevalence")]


def summary_table(result: TrainResult) -> Table:
    """Micro / macro / weighted P, R, F1 of the forest and both baselines, one row each."""
    table = Table(title=f"Averages: model vs baselines (pooled out-of-fold), labels "
                  f"{result.label_set}")
    table.add_column("model", no_wrap=True)
    table.add_column("average", no_wrap=True)
    for metric in ("P", "R", "F1"):
        table.add_column(metric, justify="right")
    for name, report in result.outcome.reports.items():
        for i, average in enumerate(AVERAGES):
            s = report.averages[average]
            table.add_row(
                {**MODEL_NAMES, **BASELINE_NAMES}.get(name, name) if i == 0 else "",
                average,
                f"{s.precision:.3f}",
                f"{s.recall:.3f}",
                f"{s.f1:.3f}",
                end_section=i == len(AVERAGES) - 1,
            )
    return table


def importance_tables(result: TrainResult, top: int = 10) -> list[Table | str]:
    """Table 4: the top permutation (held-out) and impurity (final fit) importances.

    Preceded by a warning when the verdict is not "above both baselines".
    """
    titles = {
        PERMUTATION: "drop in held-out micro-F1 when the input is shuffled (test folds only)",
        IMPURITY: "impurity importance of the forest fitted on every frame",
    }
    out: list[Table | str] = [] if result.verdict.reading == ABOVE else [NO_SKILL]
    for kind in (PERMUTATION, IMPURITY):
        rows = [row for row in result.importances if row[0] == kind][:top]
        if not rows:
            continue
        table = Table(title=f"Top {len(rows)} features: {titles[kind]}")
        table.add_column("rank", justify="right")
        table.add_column("feature")
        table.add_column(f"{kind} importance", justify="right")
        for rank, (_, feature, value, _std) in enumerate(rows, start=1):
            table.add_row(str(rank), feature, f"{value:.4f}")
        out.append(table)
    return out
