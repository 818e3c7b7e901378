"""The association commands: `top`, `signers`, `labels`, `confirm` and `timing`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands.common import (
    FamilyOption,
    FormatOption,
    LabelArgument,
    RoleOption,
    State,
    print_caption,
)
from read.guides import READING_GUIDE, ROLES_GUIDE
from signaffect.core.choices import Family, Ranking, RelativeTo, Role, UnitGrain
from signaffect.core.output import OutputFormat, emit
from signaffect.core.progress import progress_bar
from signaffect.core.settings import BOOTSTRAP_RESAMPLES

app = typer.Typer()


@app.command(
    help="The features that go with a lexical label, from fct_label_feature_associations: "
    "counts, P(feature), P(feature | label), lift, the story-stratified odds ratio with its "
    "exact 95% interval and q, the glosses behind each row ('one sign' when one carries it), "
    "one grain, one feature family and one role (default: the face) at a time.\n\n"
    + READING_GUIDE + "\n\n" + ROLES_GUIDE,
    epilog="Example: cli.py top empath:negative_emotion --family au --grain utterance\n\n"
    "Example: cli.py top empath:negative_emotion --role lexical   (the word's part of speech)"
    "\n\nExample: cli.py top empath:confusion --context negative",
)
def top(
    label: LabelArgument,
    grain: Annotated[
        UnitGrain, typer.Option(help="Unit counted: sign tokens, utterances or video frames.")
    ] = UnitGrain.sign,
    family: FamilyOption = Family.signstream,
    role: RoleOption = Role.face,
    by: Annotated[
        Ranking,
        typer.Option(
            help="Rank by the lower 95% bound of the odds ratio (ci), P(feature | label) (p), "
            "lift or PMI."
        ),
    ] = Ranking.ci,
    k: Annotated[int, typer.Option(help="How many features to list.", min=1, max=100_000)] = 10,
    min_support: Annotated[
        int, typer.Option(help="Least units a feature must share with the label.", min=0)
    ] = 0,
    context: Annotated[
        str,
        typer.Option(
            help="all signs, or only those inside (outside) any grammatical marker "
            "(inside-grammar, outside-grammar) or inside one marker (its field name: "
            "negative, 'wh question', 'yes-no question', 'rhetorical question', "
            "topic/focus, conditional/when, 'role shift', ...): sign grain, SignStream codes "
            "other than the markers and POS; each feature then marker stratum by marker "
            "stratum ('not estimable' below 5 tokens with the feature or the label), with the "
            "Mantel-Haenszel OR over the strata and the Breslow-Day p over the estimable ones."
        ),
    ] = "all",
    format: FormatOption = OutputFormat.table,
) -> None:
    from read.associations import for_terminal, top_features
    from read.grammar_context import (
        context_top,
        pooled_for_terminal,
        strata_for_terminal,
    )

    if context != "all" and grain is not UnitGrain.sign:
        raise typer.BadParameter("--context other than all needs --grain sign")
    ranking: dict[str, Any] = {"family": family.value, "by": by.value, "k": k,
                               "min_support": min_support, "role": role.value}
    if context == "all":
        result = top_features(State.db, label, grain=grain.value, **ranking)
        print_caption(result.caption, format)
        emit(for_terminal(result.table) if format is OutputFormat.table else result.table, format)
        return
    split = context_top(State.db, label, context, **ranking)
    print_caption(split.caption, format)
    if format is not OutputFormat.table:
        emit(split.table, format)
        return
    emit(for_terminal(split.table), format)
    emit(strata_for_terminal(split.strata), format, title="marker by marker")
    emit(pooled_for_terminal(split.table), format, title="pooled over the marker strata")


@app.command(epilog="Example: cli.py signers empath:negative_emotion --k 5")
def signers(
    label: LabelArgument,
    family: FamilyOption = Family.signstream,
    role: RoleOption = Role.face,
    k: Annotated[int, typer.Option(help="How many of the label's top features.", min=1)] = 5,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Is a label's association one signer's? Per-signer MH OR and exact CI for its top
    features (sign grain; "not estimable" below the mart's support), each signer's share of
    the label beside their share of all tokens, a Breslow-Day test of equal ORs across
    signers, and the pooled OR without each signer in turn (carried by one signer: the
    pooled CI excludes 1, the CI without them does not)."""
    from read.signers import caption, flat, for_terminal, signer_analysis

    analysis = signer_analysis(State.db, label, family=family.value, k=k, role=role.value)
    print_caption(caption(analysis), format)
    if format is not OutputFormat.table:
        emit(flat(analysis), format)
        return
    for title, table in for_terminal(analysis):
        emit(table, format, title=title)


@app.command(
    epilog="Example: cli.py labels empath:negative_emotion\n\n"
    "Example: cli.py labels empath:confusion --format csv"
)
def labels(label: LabelArgument, format: FormatOption = OutputFormat.table) -> None:
    """Where a lexical label comes from: each gloss that gives it (sign scope) with its
    tokens, utterances, source (the sign's word, or a quoted description), negated tokens,
    the sense review's decision (seed label_review) and the tokens that still carry it."""
    from read.label_sources import for_terminal, label_sources

    found = label_sources(State.db, label)
    print_caption(found.caption, format)
    emit(for_terminal(found.table) if format is OutputFormat.table else found.table, format)


@app.command(
    epilog="Example: cli.py confirm empath:negative_emotion --k 5 --kind facial --kind head"
    "   (needs R with lme4)"
)
def confirm(
    label: LabelArgument,
    family: FamilyOption = Family.signstream,
    role: RoleOption = Role.face,
    k: Annotated[int, typer.Option(help="How many of the label's top pairs to refit.", min=1)] = 5,
    kind: Annotated[
        list[str] | None,
        typer.Option(help="Only features of this kind (dim_features.feature_kind, e.g. facial, "
                     "head); repeat for several. Default: every kind.", show_default=False),
    ] = None,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Does a top pair survive the sign's random effect? Refit each of the label's top pairs
    (sign grain) as a logistic mixed model, feature ~ label + (1|signer) + (1|gloss)
    (+ (1|story) when it converges), with lme4's glmer in R; store the fixed effect, SE, z, p,
    95% CI, random-effect SDs and convergence in mixed_model_confirmations, which `top` and
    the report show."""
    from pipeline.confirm import confirm_label
    from read.confirm import caption, for_terminal

    with progress_bar(State.quiet) as progress:
        rows = confirm_label(
            State.db, label, k, family.value, kind or (), progress, role=role.value
        )
    print_caption(caption(label, f"{role.value} {family.value}", rows.num_rows), format)
    emit(rows if format is not OutputFormat.table else for_terminal(rows), format)


@app.command(
    epilog="Example: cli.py timing 'eye brows=lowered' --label empath:negative_emotion\n\n"
    "Example: cli.py timing 'head mvmt: shake=slow' --relative-to utterance"
)
def timing(
    feature: Annotated[str, typer.Argument(help="A non-manual feature, e.g. 'eye brows=lowered'.")],
    relative_to: Annotated[
        RelativeTo,
        typer.Option(
            help="sign: lead over the first sign the span overlaps; utterance: over the "
            "utterance's first sign."
        ),
    ] = RelativeTo.sign,
    label: Annotated[
        str | None,
        typer.Option(help="Also split by whether the onset sign carries this lexical label.",
                     show_default=False),
    ] = None,
    resamples: Annotated[
        int, typer.Option(help="Story-bootstrap draws for the CI of the median.", min=1)
    ] = BOOTSTRAP_RESAMPLES,
    format: FormatOption = OutputFormat.table,
) -> None:
    """When the face moves against the hands: median onset lead (ms; positive = the face
    starts first) and offset lag of a non-manual span, overall, by grammatical context and
    by label, with the IQR and a story-bootstrap 95% CI of the median (one row per span)."""
    from read.timing import TimingSettings, caption, for_terminal, summarise

    rows = summarise(
        State.db, feature, relative_to.value, label, TimingSettings(resamples=resamples)
    )
    if format is not OutputFormat.table:
        emit(rows, format)
        return
    print_caption(caption(feature, relative_to.value, resamples), format)
    emit(for_terminal(rows), format)
