"""`agree`: how well a measured face measure agrees with a manual code."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from commands.common import FormatOption, State, print_caption
from signaffect.core.output import OutputFormat, emit
from signaffect.stats.agreement_settings import AgreementSettings

app = typer.Typer()
#: The statistics' defaults, which are the options'.
DEFAULTS = AgreementSettings()


class AgreeBy(str, Enum):
    """How `agree` shows its rows (all are stored either way)."""

    pooled = "pooled"
    signer = "signer"


@app.command(
    epilog="Example: cli.py agree z_brow_height 'eye brows=raised' --by signer\n\n"
    "Example: cli.py agree z_head_pitch_deg 'head mvmt: nod=repeated' --tolerance 8"
)
def agree(
    measure: Annotated[str, typer.Argument(
        help="A column of fct_face_measures (brow_height, z_brow_height, head_pitch_deg, ...) "
        "or a tracker score by name (AU01_r, browInnerUp).")],
    code: Annotated[str, typer.Argument(help="A coded feature, e.g. 'eye brows=raised'.")],
    by: Annotated[AgreeBy, typer.Option(help="Show the pooled row, or each signer too.")] = (
        AgreeBy.pooled
    ),
    tolerance: Annotated[int, typer.Option(
        help="Onset tolerance in frames: a predicted event matches a coded one when their "
        "onsets differ by at most this.", min=0)] = DEFAULTS.tolerance,
    min_frames: Annotated[int, typer.Option(
        help="Shortest predicted event in frames (shorter runs over the threshold are flicker).",
        min=1)] = DEFAULTS.min_event_frames,
    resamples: Annotated[int, typer.Option(
        help="Story-bootstrap draws.", min=1)] = DEFAULTS.resamples,
    format: FormatOption = OutputFormat.table,
) -> None:
    """How well does a face measure agree with a manual code? Frame AUC, Cohen's kappa at a
    threshold chosen on the other signers (leave-one-signer-out), event precision/recall and
    onset differences, pooled and per signer with story-bootstrap 95% CIs; stored in
    measure_code_agreement, which the report's "Measured vs coded" section shows."""
    from pipeline.agree import agree as agree_rows
    from read.agreement import caption, for_terminal, pooled_only

    settings = AgreementSettings(tolerance, min_frames, resamples)
    rows = agree_rows(State.db, measure, code, settings)
    if by is AgreeBy.pooled:
        rows = pooled_only(rows)
    print_caption(caption(measure, code, rows), format)
    emit(rows if format is not OutputFormat.table else for_terminal(rows), format)
