"""Training as a pipeline step: (re)build the ML mart with dbt when it was built for another
scope or input set, then train on it. `ml` only reads marts; deciding when dbt runs is here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.progress import Progress

from ml.data import read_settings
from ml.options import Grain, Inputs, Scope
from ml.train import TrainConfig, TrainResult, train
from pipeline.builds import recorded_build
from signaffect.core.warehouse import require_built


def ensure_mart(
    db: Path,
    scope: Scope | None,
    inputs: Inputs | None,
    progress: Progress | None = None,
    grain: Grain = Grain.frame,
) -> bool:
    """Rebuild the ML marts with dbt when built for another scope or input set (or missing).

    A scope change is a full build with the new scope (the build's other settings kept):
    lexical_scope is read wherever labels are made, so no hand-written selector could name
    every mart it reaches, and a full build leaves none at the old scope. An input change
    only needs the two ML marts (and the catalog after them). The target kind the frame
    mart was built with is kept. Returns whether dbt ran.
    """
    built = read_settings(db, grain)
    reference = built or read_settings(db)  # the frame mart knows how the warehouse was built
    want_scope = scope.value if scope else (reference.lexical_scope if reference else "sign")
    want_kinds = (
        inputs.kinds if inputs else (reference.input_kinds if reference else Inputs.au.kinds)
    )
    if built and built.lexical_scope == want_scope and tuple(built.input_kinds) == want_kinds:
        return False
    dbt_vars: dict[str, Any] = {"lexical_scope": want_scope, "ml_input_kinds": list(want_kinds)}
    if reference:
        dbt_vars["ml_target_kind"] = reference.target_kind
    if not reference or reference.lexical_scope != want_scope:
        recorded_build(db, progress, dbt_vars, extra_args=None, partial_tables=None)
        return True
    tokens = "ml_sign_token_matrix+" if built else "+ml_sign_token_matrix+"
    # dim_build_settings records the vars of every build, partial ones too.
    recorded_build(db, progress, dbt_vars,
                   extra_args=["--select", "ml_frame_matrix+", tokens, "dim_build_settings"],
                   partial_tables=())
    return True


def train_on_mart(
    db: Path,
    config: TrainConfig,
    progress: Progress | None = None,
    *,
    scope: Scope | None = None,
    inputs: Inputs | None = None,
    artifacts_dir: Path | None = None,
) -> TrainResult:
    """`cli.py train`: refuse an unbuilt warehouse, bring the mart of `config.grain` to
    `scope` and `inputs` (None: as built), then train and record the run."""
    require_built(db, ("ml_frame_matrix",))
    ensure_mart(db, scope, inputs, progress, config.grain)
    return train(db, config, progress, artifacts_dir=artifacts_dir)


def record_saved_run(db: Path, folder: Path) -> str:
    """`cli.py train --load-artifacts`: record in `db` a run saved in `folder` (after a run
    that could not be recorded); returns its run id. Through here, so the pipeline stays the
    one caller that writes results into the warehouse."""
    from ml.recording import load_artifacts

    return load_artifacts(db, folder)
