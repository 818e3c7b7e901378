"""Rich tables shaped like the study's Table 3 (per-label scores) and Table 4 (importances).

Kept apart from cli.py so the layout can be tested and reused; cli.py only prints them.
"""

from __future__ import annotations

from rich.table import Table

from ml.metrics import AVERAGES
from ml.train import TrainResult


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

    The baselines' F1 sits beside the forest's on every row, so each label's score can be
    read against chance at its own prevalence.
    """
    reports = result.outcome.reports
    forest = reports["random_forest"]
    settings = result.matrix.settings
    table = Table(
        title=f"Random forest, {', '.join(settings.input_kinds)} → {settings.target_kind} "
        f"labels (scope {settings.lexical_scope}), pooled out-of-fold",
    )
    table.add_column("label", no_wrap=True)
    for name in ("P", "R", "F1", "support", "stratified F1", "majority F1"):
        table.add_column(name, justify="right")
    baseline = {
        name: {s.label: s for s in reports[name].rows()} for name in ("stratified", "majority")
    }
    rows = forest.rows()
    for i, row in enumerate(rows):
        end_section = i == len(forest.per_label) - 1
        table.add_row(
            row.label,
            f"{row.precision:.2f}",
            f"{row.recall:.2f}",
            f"{row.f1:.2f}",
            f"{row.support}",
            f"{baseline['stratified'][row.label].f1:.2f}",
            f"{baseline['majority'][row.label].f1:.2f}",
            end_section=end_section,
        )
    return table


def summary_table(result: TrainResult) -> Table:
    """Micro / macro / weighted P, R, F1 of the forest and both baselines, one row each."""
    table = Table(title="Averages: model vs baselines (pooled out-of-fold)")
    table.add_column("model", no_wrap=True)
    table.add_column("average", no_wrap=True)
    for metric in ("P", "R", "F1"):
        table.add_column(metric, justify="right")
    for name, report in result.outcome.reports.items():
        for i, average in enumerate(AVERAGES):
            s = report.averages[average]
            table.add_row(
                name if i == 0 else "",
                average,
                f"{s.precision:.3f}",
                f"{s.recall:.3f}",
                f"{s.f1:.3f}",
                end_section=i == len(AVERAGES) - 1,
            )
    return table


def importance_table(result: TrainResult, top: int = 10) -> Table:
    """Table 4: the top impurity importances of the forest fitted on every frame."""
    table = Table(title=f"Top {top} features (impurity importance, fit on all frames)")
    table.add_column("rank", justify="right")
    table.add_column("feature")
    table.add_column("importance", justify="right")
    for rank, (feature, value) in enumerate(result.importances[:top], start=1):
        table.add_row(str(rank), feature, f"{value:.4f}")
    return table
