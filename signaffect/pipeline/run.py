"""The main job, `cli.py run`: ingest a corpus, build the warehouse, train twice, write the
report; and the corpus options that it shares with `cli.py ingest`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.progress import Progress

from ingest.corpus import IngestSummary
from ingest.dai2 import DEFAULT_FPS
from signaffect.pipeline.corpus import build_warehouse, ingest_corpus

if TYPE_CHECKING:  # training and the report (scikit-learn, matplotlib) load only for `run`
    from ml.train import TrainResult


@dataclass(frozen=True)
class CorpusOptions:
    """How corpus files are read and labelled (see `signaffect.pipeline.corpus.ingest_corpus`)."""

    lexicons: bool = True
    liwc_dic: Path | None = None
    lexicon_names: Sequence[str] | None = None
    categories: Sequence[str] = ()
    tiers: Path | None = None
    fps: float = DEFAULT_FPS
    add: bool = False
    replace: bool = False


@dataclass(frozen=True)
class MainJob:
    """What `run_main_job` did: the ingest, the training runs (none with `train` off) and
    the report's HTML file."""

    summary: IngestSummary
    results: list[TrainResult]
    report: Path


def ingest_files(
    db: Path, paths: Iterable[str | Path], options: CorpusOptions, progress: Progress | None
) -> IngestSummary:
    """Ingest `paths` into `db` as `options` say; the connection is closed on return."""
    return ingest_corpus(
        db,
        paths,
        progress,
        lexicons=options.lexicons,
        liwc_dic=options.liwc_dic,
        lexicon_names=options.lexicon_names,
        categories=options.categories,
        tiers=options.tiers,
        fps=options.fps,
        add=options.add,
        replace=options.replace,
    )


def run_main_job(
    db: Path,
    paths: Iterable[str | Path],
    options: CorpusOptions,
    progress: Progress | None,
    *,
    train_models: bool,
    report_dir: Path,
) -> MainJob:
    """Ingest, `dbt build`, train with story-grouped CV (the verdict) and the study's
    frame-level KFold beside it, then write the report into `report_dir`."""
    from ml.options import CV
    from ml.train import TrainConfig, train
    from signaffect.read.report import write_report

    summary = ingest_files(db, paths, options, progress)
    build_warehouse(db, progress)
    modes = (CV.story, CV.kfold) if train_models else ()
    results = [train(db, TrainConfig(cv=cv), progress) for cv in modes]
    html_path, _ = write_report(db, report_dir)
    return MainJob(summary, results, html_path)
