"""`train`: predict lexical emotion labels from the face, cross-validated, with a verdict."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from commands.common import State, print_lines
from ml.options import CV, ClassWeight, ForestSettings, Grain, Inputs, Model, Scope, TrainConfig
from signaffect.core.output import out
from signaffect.core.progress import progress_bar

if TYPE_CHECKING:  # heavy modules are imported by the command that uses them
    from ml.train import TrainResult

app = typer.Typer()
#: The defaults of every option of `train`: TrainConfig's.
DEFAULT = TrainConfig()

# Options of `train`, declared here so that the command reads as what it does.
# What is predicted from what:
TrainGrainOption = Annotated[
    Grain, typer.Option(help="frame = one row per video frame (the study); sign = one row "
                        "per main-gloss sign, inputs = share of its frames with each feature.")
]
TrainLabelsOption = Annotated[
    str | None,
    typer.Option(help="all, study (the study's 18 Empath labels, as near as the lexicons "
                 "allow) or comma-separated labels. Default: all in the matrix.",
                 show_default=False),
]
ScopeOption = Annotated[
    Scope | None,
    typer.Option(help="Lexical label scope; rebuilds the ML mart with dbt if it differs. "
                 "Default: as built.", show_default=False),
]
InputsOption = Annotated[
    Inputs | None,
    typer.Option(help="Inputs: au (FACS action units) or facial (raw face and head codes); "
                 "rebuilds the ML mart if it differs. Default: as built.", show_default=False),
]
# The model:
ModelOption = Annotated[
    Model, typer.Option(help="forest = multi-output random forest (the study); logreg = "
                        "one-vs-rest L2 logistic regression, class-balanced.")
]
TreesOption = Annotated[int, typer.Option(help="Trees in the forest.", min=1)]
MaxDepthOption = Annotated[
    int | None, typer.Option(help="Tree depth limit. Default: none.", min=1, show_default=False)
]
ClassWeightOption = Annotated[ClassWeight, typer.Option(help="Class weighting of the forest.")]
# How it is validated:
CvOption = Annotated[
    CV,
    typer.Option(
        help="story / utterance = GroupKFold; signer = leave one signer out; kfold = the "
        "study's shuffled frame-level KFold (frames of one story in train and test: leaks)."
    ),
]
FoldsOption = Annotated[int, typer.Option(help="Folds (grouped CV: at most one per group).", min=2)]
VerdictResamplesOption = Annotated[
    int, typer.Option(help="Story-bootstrap resamples behind the verdict's 95% CIs.", min=1)
]
PermutationsOption = Annotated[
    int, typer.Option(help="Story-permutation test: refits of the whole CV on labels "
                      "shuffled between stories (each costs one CV). 0 = not run.", min=0)
]
ImportanceRepeatsOption = Annotated[
    int, typer.Option(help="Shuffles per input of the held-out permutation importance.", min=1)
]
SeedOption = Annotated[
    int,
    typer.Option(help="Random seed (folds, model, baselines, bootstrap).", min=0, max=2**32 - 1),
]



def print_training(result: TrainResult, grain: Grain) -> None:
    """A training run: the verdict, the CV, the study's tables and where the run was saved."""
    from read.training_tables import (
        describe_cv,
        importance_tables,
        label_table,
        summary_table,
        verdict_lines,
    )

    print_lines(verdict_lines(result))
    out.print(describe_cv(result))
    out.print(label_table(result))
    out.print(summary_table(result))
    for block in importance_tables(result):
        out.print(block)
    out.print(
        f"run {result.run_id}: {result.matrix.n_frames} {grain.unit} "
        f"({result.outcome.n_unique_rows} distinct rows), labels {result.label_set}, "
        f"in {result.duration_s:.0f}s; saved to ml_runs and {result.artifacts}"
    )


@app.command(
    epilog="Example: cli.py train   (story-grouped CV, every label)\n\n"
    "Example: cli.py train --labels study --model logreg\n\n"
    "Example: cli.py train --grain sign   (one row per sign token)\n\n"
    "Example: cli.py train --cv kfold   (the study's leaky protocol, to reproduce it)"
)
def train(
    cv: CvOption = DEFAULT.cv,
    folds: FoldsOption = DEFAULT.folds,
    grain: TrainGrainOption = DEFAULT.grain,
    labels: TrainLabelsOption = None,
    model: ModelOption = DEFAULT.model,
    scope: ScopeOption = None,
    inputs: InputsOption = None,
    trees: TreesOption = DEFAULT.forest.n_estimators,
    max_depth: MaxDepthOption = DEFAULT.forest.max_depth,
    class_weight: ClassWeightOption = DEFAULT.forest.class_weight,
    resamples: VerdictResamplesOption = DEFAULT.resamples,
    permutations: PermutationsOption = DEFAULT.permutations,
    importance_repeats: ImportanceRepeatsOption = DEFAULT.importance_repeats,
    seed: SeedOption = DEFAULT.forest.seed,
    artifacts_dir: Annotated[
        Path | None,
        typer.Option(help="Where to save <run_id>/model.skops and metrics.json. "
                     "Default: artifacts/.", show_default=False),
    ] = None,
    load_artifacts: Annotated[
        Path | None,
        typer.Option(help="Do not train: record in the warehouse the run saved in this "
                     "artifacts/<run_id> folder (after a run that could not be recorded).",
                     show_default=False, exists=True, file_okay=False),
    ] = None,
) -> None:
    """Predict lexical emotion labels from the face, cross-validated by story, with a verdict."""
    from ml.labelsets import parse
    from pipeline.training import record_saved_run, train_on_mart

    if load_artifacts is not None:
        run_id = record_saved_run(State.db, load_artifacts)
        out.print(f"recorded run {run_id} from {load_artifacts} in {State.db}")
        return
    forest = ForestSettings(
        n_estimators=trees, max_depth=max_depth, class_weight=class_weight, seed=seed
    )
    config = TrainConfig(
        cv=cv, folds=folds, grain=grain, label_set=parse(labels), model=model, forest=forest,
        resamples=resamples, permutations=permutations, importance_repeats=importance_repeats,
    )
    with progress_bar(State.quiet) as progress:
        result = train_on_mart(State.db, config, progress, scope=scope, inputs=inputs,
                               artifacts_dir=artifacts_dir)
    print_training(result, grain)
