"""SignAffect command line: ingest a corpus (SignStream, ELAN, DAI 2), build, query it.

The CLI only parses options, calls a step of `signaffect.pipeline` or a read function of
`signaffect.read`, and prints. Options that several commands take are declared once, as the
`...Option` aliases below. Exit codes: 0 ok, 1 the pipeline failed, 2 usage, 130 interrupted.
Every command runs inside `GuardedGroup`, so any error it raises is one line (see
`signaffect.core.failures`).
"""

from __future__ import annotations

from signaffect.core.last_resort import install_last_resort, write_plain

# Before the other imports: running out of memory while they load is one line too.
install_last_resort()

import sys
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text
from typer.core import TyperGroup

from ingest import corpus_status
from ingest.corpus import IngestSummary
from ingest.signstream import MAX_FPS, MIN_FPS
from ml.options import CV, ClassWeight, Grain, Inputs, Model, Scope
from signaffect.core.errors import SignAffectError
from signaffect.core.failures import Failure, describe
from signaffect.core.output import OutputFormat, emit, err, note, out, warn
from signaffect.core.paths import check_out_dir
from signaffect.core.progress import progress_bar
from signaffect.core.settings import SAMPLE_CORPUS_DIR, db_path
from signaffect.read import queries
from signaffect.read.associations import READING_GUIDE, ROLES_GUIDE

if TYPE_CHECKING:  # heavy modules are imported by the commands that use them
    from ml.train import TrainResult


class GuardedGroup(TyperGroup):
    """Runs each command so that whatever it raises (a lock, a full disk, Ctrl-C, a bug)
    ends as one error line and an exit code, never a traceback (unless --debug)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, SystemExit):  # usage: exit 2
            raise
        except BaseException as exc:  # KeyboardInterrupt and MemoryError included
            if State.debug:
                raise
            report_failure(describe(exc, ctx.invoked_subcommand or "", str(State.db)))


app = typer.Typer(
    cls=GuardedGroup,
    help="SignAffect: how the face carries emotion and grammar in ASL, as SQL over every frame.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


class State:
    """Global options shared by every command."""

    db: Path = db_path()
    debug: bool = False
    quiet: bool = False


def check_db(value: Path | None) -> Path | None:
    """Refuse an empty `--db` (typer reads "" as the current folder) or any folder."""
    if value is not None and (str(value) in ("", ".") or value.is_dir()):
        shown = "an empty path" if str(value) in ("", ".") else f"{value}, a folder,"
        raise typer.BadParameter(f"{shown} is not a warehouse file; pass a file such as "
                                 "warehouse/signaffect.duckdb")
    return value


@app.callback()
def main(
    db: Annotated[
        Path | None,
        typer.Option(
            help="Warehouse file. Default: env SIGNAFFECT_DB, else warehouse/signaffect.duckdb.",
            show_default=False,
            callback=check_db,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show full tracebacks on errors.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Global options."""
    State.db = db_path(db)
    State.debug = debug
    State.quiet = quiet


def report_failure(failure: Failure) -> None:
    """Print a failure's lines and hint on stderr, verbatim, and exit with its code (plain
    bytes if rich cannot draw them, e.g. out of memory)."""
    try:
        for line in failure.lines:
            err.print(f"[red]error:[/red] {escape(line)}")
        if failure.hint:
            note(f"hint: {failure.hint}")
    except BaseException:  # the failure must still be reported, and once
        write_plain(failure.lines, failure.hint)
    raise typer.Exit(failure.code)


def fail(exc: SignAffectError) -> None:
    """Report `exc` as one line and exit 1; re-raise under --debug."""
    if State.debug:
        raise exc
    report_failure(describe(exc, "", str(State.db)))


class RankBy(str, Enum):
    """The column `top` ranks features by (see its --by help)."""

    ci = "ci"
    p = "p"
    lift = "lift"
    pmi = "pmi"


class UnitGrain(str, Enum):
    """The unit association statistics count (training has its own `ml.options.Grain`)."""

    frame = "frame"
    sign = "sign"
    utterance = "utterance"


class Family(str, Enum):
    """The features a label is tested against: SignStream codes or the action units mapped
    from them, never mixed."""

    signstream = "signstream"
    au = "au"


class Role(str, Enum):
    """What a feature may be evidence of (`dim_features.role`); only face answers what the
    face carries."""

    face = "face"
    body = "body"
    grammar = "grammar"
    lexical = "lexical"
    all = "all"


# Options of more than one command.
FormatOption = Annotated[OutputFormat, typer.Option(help="Output format.")]
LabelArgument = Annotated[
    str, typer.Argument(help="A lexical label, e.g. empath:confusion or nrc:anger.")
]
FamilyOption = Annotated[
    Family, typer.Option(help="SignStream codes or FACS action units (never mixed).")
]
RoleOption = Annotated[
    Role,
    typer.Option(help="Features of this role: face (facial and head codes, their action "
                 "units, FER: the only evidence of what the face carries), body, grammar "
                 "(markers), lexical (part of speech, glosses, mouthings: the word), or all."),
]
LexiconsOption = Annotated[
    bool,
    typer.Option(
        "--lexicons/--no-lexicons",
        help="Label glosses and translations with Empath and NRC EmoLex (and LIWC if given).",
    ),
]
LiwcOption = Annotated[
    Path | None,
    typer.Option(help="A licensed LIWC .dic file; its categories become liwc:<category>."),
]
LexiconNameOption = Annotated[
    list[str] | None,
    typer.Option(
        "--lexicon",
        help="Lexicons to use (repeat): empath, nrc, liwc. Default: empath and nrc, plus liwc "
        "with --liwc-dic.",
        show_default=False,
    ),
]
CategoryOption = Annotated[
    list[str] | None,
    typer.Option(
        "--category",
        help="lexicon:category to keep (repeat), e.g. empath:confusion; a lexicon not named "
        "keeps its default (emotion) categories.",
        show_default=False,
    ),
]
TiersOption = Annotated[
    Path | None,
    typer.Option(
        "--tiers",
        help="ELAN tier mapping (TOML) for the .eaf files. Default: detect a shipped preset "
        "(NCSLGR ELAN conversion, Public DGS Corpus) from their tier names.",
        show_default=False,
    ),
]
def check_fps(value: float) -> float:
    """A frame rate a video can have (NaN, which compares false to every bound, included)."""
    if not MIN_FPS <= value <= MAX_FPS:
        raise typer.BadParameter(f"{value} is not a frame rate from {MIN_FPS:g} to {MAX_FPS:g}")
    return value


FpsOption = Annotated[
    float,
    typer.Option("--fps", help="Video frame rate of DAI 2 XML exports (their times are frames), "
                 f"{MIN_FPS:g} to {MAX_FPS:g}.", callback=check_fps),
]  # fmt: skip
AddOption = Annotated[
    bool,
    typer.Option(
        "--add",
        help="Add these files to the corpus already loaded. Default: the warehouse then holds "
        "exactly these files (others loaded before are removed).",
    ),
]
ReplaceOption = Annotated[
    bool,
    typer.Option(
        "--replace",
        help="Let a file replace the loaded story of the same name (storm.xml, storm.eaf) read "
        "from another path. Default: refused, naming both paths.",
    ),
]

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


def print_lines(lines: Iterable[str]) -> None:
    """Prose lines on stdout, wrapped by the terminal, never highlighted."""
    for line in lines:
        out.print(line, highlight=False, soft_wrap=True)


def print_caption(caption: str, fmt: OutputFormat) -> None:
    """A table's caption: above the table on stdout, on stderr when stdout carries CSV or JSON."""
    (out if fmt is OutputFormat.table else err).print(
        Text(caption), highlight=False, soft_wrap=True
    )


def print_ingest_summary(summary: IngestSummary) -> None:
    """What was loaded, replaced and removed, and how much of the text the lexicons cover."""
    for old, new in summary.replaced.renamed:
        warn(f"{new} has the same content as the loaded {old}: {old} was replaced by {new}")
    for story, old_path, new_path in summary.replaced.replaced_stories:
        if old_path == new_path:
            warn(f"{new_path} changed since it was loaded: story {story!r} was replaced")
        else:
            warn(f"story {story!r} from {old_path} was replaced by {new_path}")
    removed = summary.replaced.removed
    if removed:
        more = f" and {len(removed) - 10} more" if len(removed) > 10 else ""
        listed = ", ".join(removed[:10]) + more
        note(f"removed {len(removed)} file(s) loaded before and not given now (use --add to "
             f"keep them): {listed}")
    out.print(
        f"ingested {len(summary.files)} file(s): "
        f"{summary.rows['signstream_utterances']} utterances, "
        f"{summary.rows['signstream_annotations']} annotations, "
        f"{summary.rows['lexicon_hits']} lexicon hits into {State.db}"
    )
    for scope, cover in summary.lexicon_coverage.items():
        out.print(
            f"lexicon coverage ({scope}s): {int(cover['covered'])} of {int(cover['total'])} "
            f"have a lexicon word ({cover['share']:.1%})"
        )


def print_training(result: TrainResult, grain: Grain) -> None:
    """A training run: the verdict, the CV, the study's tables and where the run was saved."""
    from signaffect.read.training_tables import (
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
    epilog="Example: cli.py ingest ../shared/ncslgr-xml --liwc-dic LIWC2015.dic\n\n"
    "Example: cli.py ingest my-corpus/ --tiers my-corpus.toml"
)
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="SignStream or DAI 2 XML, ELAN .eaf files, or folders of them "
                       "(sub-folders included)."),
    ],
    lexicons: LexiconsOption = True,
    liwc_dic: LiwcOption = None,
    lexicon: LexiconNameOption = None,
    category: CategoryOption = None,
    tiers: TiersOption = None,
    fps: FpsOption = 30.0,
    add: AddOption = False,
    replace: ReplaceOption = False,
) -> None:
    """Load corpus files (SignStream, ELAN, DAI 2) and their lexicon hits into schema raw
    (all files or none); the corpus becomes exactly these files unless --add."""
    from signaffect.pipeline.run import CorpusOptions, ingest_files

    options = CorpusOptions(
        lexicons, liwc_dic, lexicon, category or (), tiers, fps, add, replace
    )
    with progress_bar(State.quiet) as progress:
        summary = ingest_files(State.db, paths, options, progress)
    print_ingest_summary(summary)


@app.command(epilog="Example: cli.py remove storm flat-tire.xml")
def remove(
    stories: Annotated[
        list[str], typer.Argument(help="Stories (file names without .xml) or file names.")
    ],
) -> None:
    """Remove stories from the corpus in schema raw (all named or none); then `cli.py build`."""
    from signaffect.pipeline.corpus import remove_corpus_files

    removed = remove_corpus_files(State.db, stories)
    out.print(f"removed {len(removed)} file(s) from {State.db}: {', '.join(removed)}")
    note("hint: run `cli.py build` to rebuild the marts without them")


@app.command(epilog="Example: cli.py build")
def build(
    force: Annotated[
        bool, typer.Option("--force", help="Run dbt even when nothing changed since the last "
                           "build (raw data, vars and project code the same).")
    ] = False,
) -> None:
    """Run `dbt build` in-process: models, seeds and every data test (skipped when nothing
    changed since the last build)."""
    from signaffect.pipeline.corpus import build_warehouse

    with progress_bar(State.quiet) as progress:
        ran = build_warehouse(State.db, progress, force=force)
    if ran:
        out.print(f"built {State.db}")
    else:
        out.print(f"{State.db}: nothing changed since the last build (raw data, vars and "
                  "code); the marts are current (--force runs dbt anyway)")


@app.command(
    epilog='Example: cli.py query "select count(*) from fct_frames" --format csv\n\n'
    'Example: cli.py query "select story, count(*) from frames group by 1" --parquet export/'
)
def query(
    sql: Annotated[
        str, typer.Argument(help="One SELECT (or WITH, DESCRIBE, SHOW) over the warehouse.")
    ],
    format: FormatOption = OutputFormat.table,
    parquet: Annotated[
        Path | None,
        typer.Option(help="Query a `cli.py export` folder instead of the warehouse: each "
                     "Parquet file and partitioned folder is a view (frames, frame_features, "
                     "...).", show_default=False),
    ] = None,
) -> None:
    """Run one read-only SELECT over the warehouse (or an exported Parquet dataset) and print
    the result (other statements, which could write files, are refused)."""
    result = (
        queries.run_parquet_query(parquet, sql)
        if parquet is not None
        else queries.run_query(State.db, sql)
    )
    emit(result, format)


@app.command(epilog="Example: cli.py status")
def status() -> None:
    """List the warehouse's tables and views with their row counts, the corpus files loaded
    with their SHA-256 content hashes, and whether the marts were built from them."""
    emit(queries.table_counts(State.db))
    emit(corpus_status.loaded_files(State.db), title="corpus files")
    print_lines([queries.marts_state(State.db)])


@app.command(
    epilog="Example: cli.py run   (the bundled sample corpus)\n\n"
    "Example: cli.py run ../shared/ncslgr-xml --no-train"
)
def run(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Corpus files or folders (sub-folders included). Default: the "
                       "bundled sample corpus."),
    ] = None,
    lexicons: LexiconsOption = True,
    liwc_dic: LiwcOption = None,
    lexicon: LexiconNameOption = None,
    category: CategoryOption = None,
    tiers: TiersOption = None,
    fps: FpsOption = 30.0,
    add: AddOption = False,
    replace: ReplaceOption = False,
    train: Annotated[
        bool,
        typer.Option(
            "--train/--no-train",
            help="Train twice: story-grouped CV (the verdict) and, beside it, the study's "
            "frame-level KFold.",
        ),
    ] = True,
    report_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the report (report.html, report.md).")
    ] = Path("reports"),
) -> None:
    """The main job: ingest a corpus (default: the bundled sample), build, train, report.
    The warehouse then holds exactly that corpus, unless --add."""
    from signaffect.pipeline.run import CorpusOptions, run_main_job

    options = CorpusOptions(
        lexicons, liwc_dic, lexicon, category or (), tiers, fps, add, replace
    )
    check_out_dir(report_dir)
    with progress_bar(State.quiet) as progress:
        done = run_main_job(State.db, paths or [SAMPLE_CORPUS_DIR], options, progress,
                            train_models=train, report_dir=report_dir)
    counts = queries.headline_counts(State.db)
    print_ingest_summary(done.summary)
    out.print(f"built {State.db}")
    emit(counts)
    if done.results:
        from signaffect.read.training_tables import grouped_then_kfold

        print_lines(grouped_then_kfold(*done.results))
    out.print(f"report: {done.report}")


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
        RankBy,
        typer.Option(
            help="Rank by the lower 95% bound of the odds ratio (ci), P(feature | label) (p), "
            "lift or PMI."
        ),
    ] = RankBy.ci,
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
    from signaffect.read.associations import for_terminal, top_features
    from signaffect.read.grammar_context import (
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
    from signaffect.read.signers import caption, flat, for_terminal, signer_analysis

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
    from signaffect.read.label_sources import for_terminal, label_sources

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
    from signaffect.pipeline.confirm import confirm_label
    from signaffect.read.confirm import caption, for_terminal

    with progress_bar(State.quiet) as progress:
        rows = confirm_label(
            State.db, label, k, family.value, kind or (), progress, role=role.value
        )
    print_caption(caption(label, f"{role.value} {family.value}", rows.num_rows), format)
    emit(rows if format is not OutputFormat.table else for_terminal(rows), format)


class RelativeTo(str, Enum):
    sign = "sign"
    utterance = "utterance"


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
    ] = 1000,
    format: FormatOption = OutputFormat.table,
) -> None:
    """When the face moves against the hands: median onset lead (ms; positive = the face
    starts first) and offset lag of a non-manual span, overall, by grammatical context and
    by label, with the IQR and a story-bootstrap 95% CI of the median (one row per span)."""
    from signaffect.read.timing import TimingSettings, caption, for_terminal, summarise

    rows = summarise(
        State.db, feature, relative_to.value, label, TimingSettings(resamples=resamples)
    )
    if format is not OutputFormat.table:
        emit(rows, format)
        return
    print_caption(caption(feature, relative_to.value, resamples), format)
    emit(for_terminal(rows), format)


@app.command(
    epilog="Example: cli.py train   (story-grouped CV, every label)\n\n"
    "Example: cli.py train --labels study --model logreg\n\n"
    "Example: cli.py train --grain sign   (one row per sign token)\n\n"
    "Example: cli.py train --cv kfold   (the study's leaky protocol, to reproduce it)"
)
def train(
    cv: CvOption = CV.story,
    folds: FoldsOption = 10,
    grain: TrainGrainOption = Grain.frame,
    labels: TrainLabelsOption = None,
    model: ModelOption = Model.forest,
    scope: ScopeOption = None,
    inputs: InputsOption = None,
    trees: TreesOption = 100,
    max_depth: MaxDepthOption = None,
    class_weight: ClassWeightOption = ClassWeight.none,
    resamples: VerdictResamplesOption = 1000,
    permutations: PermutationsOption = 0,
    importance_repeats: ImportanceRepeatsOption = 5,
    seed: SeedOption = 0,
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
    from ml.model import ForestSettings
    from ml.recording import load_artifacts as record_saved_run
    from ml.train import TrainConfig
    from signaffect.pipeline.training import train_on_mart

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


@app.command(
    epilog="Example: cli.py report --out reports/ncslgr\n\n"
    "Example: cli.py report --labels nrc:anger,nrc:joy --k 15"
)
def report(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for report.html, report.md and the PNGs.")
    ] = Path("reports"),
    labels: Annotated[
        str | None,
        typer.Option(help="Comma-separated lexical labels to rank features for. Default: "
                     "empath:negative_emotion and empath:confusion if present, else the most "
                     "frequent labels.", show_default=False),
    ] = None,
    top: Annotated[int, typer.Option(help="Bars per count chart.", min=1)] = 25,
    k: Annotated[int, typer.Option(help="Features per label table.", min=1)] = 10,
) -> None:
    """Write a self-contained HTML report (and a Markdown twin) from the warehouse."""
    from signaffect.read.report import write_report

    chosen = [x.strip() for x in labels.split(",") if x.strip()] if labels else None
    check_out_dir(out_dir)
    html_path, md_path = write_report(State.db, out_dir, labels=chosen, top_n=top, k=k)
    sys.stdout.write(f"{html_path}\n{md_path}\n")


@app.command(epilog="Example: cli.py export --out export/ncslgr\n\n"
             "Example: cli.py export --elan elan/ --stories ali --stories 'three pigs'")
def export(
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder for the Parquet files and their README.md; "
                     "an earlier export there is replaced."),
    ] = Path("export"),
    elan: Annotated[
        Path | None,
        typer.Option(help="Instead of Parquet: one ELAN 3.0 file per story in this folder "
                     "(<story>.eaf, and <story>.tiers.toml that `cli.py ingest DIR` reads it "
                     "back with); files of the same stories are replaced.", show_default=False),
    ] = None,
    stories: Annotated[
        list[str] | None,
        typer.Option("--stories", help="With --elan: only these stories (repeat, or "
                     "comma-separated). Default: all.", show_default=False),
    ] = None,
    media: Annotated[
        Path | None,
        typer.Option(help="With --elan: the folder of the corpus's videos, linked by a path "
                     "relative to each .eaf. Default: beside the .eaf files.",
                     show_default=False),
    ] = None,
) -> None:
    """Export the frame dataset as Parquet (frame tables partitioned by story) with a card,
    or with --elan each story as an ELAN file of source and derived tiers."""
    if elan is not None:
        _export_elan(elan, stories, media)
        return
    if stories or media is not None:
        raise typer.BadParameter("--stories and --media go with --elan DIR")
    from signaffect.read.export import export_dataset

    check_out_dir(out_dir)
    rows = export_dataset(State.db, out_dir)
    for name, n in rows.items():
        sys.stdout.write(f"{name}\t{n}\n")
    sys.stdout.write(f"{out_dir.resolve()}\n")


def _export_elan(folder: Path, stories: list[str] | None, media: Path | None) -> None:
    from signaffect.read.elan_export import export_elan

    check_out_dir(folder, "--elan")
    chosen = [s.strip() for group in stories for s in group.split(",") if s.strip()] \
        if stories else None
    with progress_bar(State.quiet) as progress:
        task = progress.add_task("ELAN files", total=None)
        written = export_elan(State.db, folder, chosen, media,
                              on_story=lambda _: progress.advance(task))
    for story in written:
        sys.stdout.write(f"{story.eaf}\t{story.source_tiers} source tiers\t"
                         f"{story.derived_tiers} derived tiers\t{story.annotations} annotations\n")


class FerMode(str, Enum):
    exact = "exact"
    fast = "fast"


class FerEngine(str, Enum):
    local = "local"
    ray = "ray"


FER_WARN_LIMIT = 10  # missing corpus videos listed one per line; the rest are counted

FerVideosArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Video files to analyse; linked to the corpus only if named like "
                   "one of its media files.", show_default=False),
]
FerVideosDirOption = Annotated[
    Path | None,
    typer.Option("--videos", help="Folder of the corpus's videos: the files directly in it "
                 "named like a media file of --view are analysed.", show_default=False,
                 exists=True, file_okay=False),
]
FerViewOption = Annotated[
    str, typer.Option(help="Camera view (master, slave1, ...) matched with --videos; its "
                      "largest face gives each frame its fer:<emotion> feature.")
]
FerModeOption = Annotated[
    FerMode, typer.Option(help="exact = fer's recipe on every frame; fast = downscaled, "
                          "tracked detection (several times faster).")
]
FerFastScaleOption = Annotated[
    float, typer.Option(help="Fast mode: scale frames by this before detecting.",
                        min=0.05, max=1.0)
]
FerRedetectOption = Annotated[
    int, typer.Option(help="Fast mode: detect every N frames, track in between.", min=1)
]
FerForceOption = Annotated[
    bool, typer.Option(help="Analyse again videos already done with these settings.")
]
FerEngineOption = Annotated[
    FerEngine, typer.Option(help="local = this machine; ray = a Ray cluster (Ray comes "
                            "with the scale extra, which the setup script installs).")
]
FerWorkersOption = Annotated[
    int | None, typer.Option(help="local: processes, one unit each (default 1: one unit at "
                             "a time on threads over all cores); ray: CPUs of the local "
                             "Ray (default all cores).", min=1, show_default=False)
]
FerAddressOption = Annotated[
    str | None, typer.Option(help="ray: the cluster to join (e.g. ray://head:10001 or "
                             "auto). Default: start a local Ray.", show_default=False)
]
FerShardsOption = Annotated[
    Path | None, typer.Option(help="Folder for the per-chunk Parquet results. Default: "
                              "fer-shards/ beside the warehouse file.", show_default=False)
]


def _warn_missing_videos(missing: list[str], view: str, folder: Path) -> None:
    """One warning per `view` video of the corpus not in `folder` (up to FER_WARN_LIMIT),
    then a count of the rest."""
    for name in missing[:FER_WARN_LIMIT]:
        warn(f"{name}: {view} media file of the corpus not found in {folder}")
    if len(missing) > FER_WARN_LIMIT:
        warn(f"... and {len(missing) - FER_WARN_LIMIT} more not found")


@app.command(
    epilog="Example: cli.py fer --videos ~/ncslgr-videos   (the corpus's master videos)\n\n"
    "Example: cli.py fer clip1.mov clip2.mov --mode fast --workers 2\n\n"
    "Example: cli.py fer --videos /data/videos --engine ray --address ray://head:10001\n\n"
    "Re-runs skip finished videos and chunks. fct_fer_frames shows one mode and view: this command "
    "rebuilds it with its own --mode and --view; `cli.py build` uses dbt vars fer_mode and "
    "fer_view (default exact, master)."
)
def fer(
    videos: FerVideosArgument = None,
    videos_dir: FerVideosDirOption = None,
    view: FerViewOption = "master",
    mode: FerModeOption = FerMode.exact,
    fast_scale: FerFastScaleOption = 0.5,
    redetect_every: FerRedetectOption = 5,
    force: FerForceOption = False,
    engine: FerEngineOption = FerEngine.local,
    workers: FerWorkersOption = None,
    address: FerAddressOption = None,
    shards: FerShardsOption = None,
) -> None:
    """Facial expression recognition over videos into raw.fer_*, then refresh fct_fer_frames."""
    # Finished videos are skipped; an unusable one is recorded as failed, the others still
    # load, and the exit code is 1. If the warehouse is built, `dbt build --select
    # staging.fer+` runs with dbt vars fer_mode and fer_view set to this run's --mode and
    # --view; otherwise `cli.py build` (which uses dbt_project.yml's defaults) builds it.
    from signaffect.pipeline.fer import fer_engine, fer_into_warehouse, refresh_fer_marts

    if bool(videos) == (videos_dir is not None):
        raise typer.BadParameter("give either video files or --videos DIR")
    if address is not None and engine is not FerEngine.ray:
        raise typer.BadParameter("--address needs --engine ray")
    try:
        runner = fer_engine(engine is FerEngine.ray, address, workers)
        summary, built = fer_into_warehouse(
            State.db, videos or [], videos_dir, view, shard_root=shards, quiet=State.quiet,
            on_missing=_warn_missing_videos,
            mode=mode.value, fast_scale=fast_scale, redetect_every=redetect_every,
            engine=runner, force=force,
        )
        out.print(f"fer ({mode.value}): {summary.processed} processed, {summary.skipped} "
                  f"skipped (already done), {summary.failed} failed")
        for path, error in summary.failures:
            warn(error if path in error else f"{path}: {error}")
        if built:
            refresh_fer_marts(State.db, mode.value, view, quiet=State.quiet)
            out.print(f"built fct_fer_frames in {State.db}")
        else:
            note("hint: the warehouse is not built yet: `cli.py build` builds fct_fer_frames "
                 "(with or without a corpus ingested)")
        if summary.failed:
            raise SignAffectError(
                f"{summary.failed} video(s) failed; the others were loaded",
                "fix or remove the videos named above and run again (finished videos are skipped)",
            )
    except SignAffectError as exc:
        fail(exc)


if __name__ == "__main__":
    app()
