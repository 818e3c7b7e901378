"""The main job, `cli.py run`: ingest a corpus, build the warehouse, train twice, write the
report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import Progress

from ingest.corpus import IngestSummary
from pipeline.corpus import build_warehouse, ingest_corpus
from pipeline.options import CorpusOptions

if TYPE_CHECKING:  # training and the report (scikit-learn, matplotlib) load only for `run`
    from ml.train import TrainResult


@dataclass(frozen=True)
class MainJob:
    """What `run_main_job` did: the ingest, the training runs (none with `train` off) and
    the report's HTML file."""

    summary: IngestSummary
    results: list[TrainResult]
    report: Path


def run_main_job(
    db: Path,
    paths: Iterable[str | Path],
    options: CorpusOptions,
    progress: Progress | None,
    *,
    train_models: bool,
    report_dir: Path,
    dbt_vars: dict[str, Any] | None = None,
) -> MainJob:
    """Ingest, `dbt build` (the last build's settings, `dbt_vars` over them), train with
    story-grouped CV (the verdict) and the study's frame-level KFold beside it, then write
    the report into `report_dir`."""
    from ml.options import CV
    from ml.train import TrainConfig, train
    from read.report import write_report

    summary = ingest_corpus(db, paths, progress, options)
    build_warehouse(db, progress, dbt_vars)
    results: list[TrainResult] = []
    for cv in (CV.story, CV.kfold) if train_models else ():
        # One build, one final model: the kfold run takes the story run's.
        final = results[0].final if results else None
        results.append(train(db, TrainConfig(cv=cv), progress, final=final))
    html_path, _ = write_report(db, report_dir)
    return MainJob(summary, results, html_path)
