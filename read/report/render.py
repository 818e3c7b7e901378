"""The report as documents: a list of blocks, written once as HTML and once as Markdown.

The HTML is self-contained: figures are base64 PNG data URIs, the CSS is inline, there is
no script, and a Content-Security-Policy forbids every fetch, so it opens offline and
nothing can load from the network. Every text from the warehouse goes through
`html.escape` (HTML) or `md_escape` (Markdown). The Markdown twin links PNG files written
beside it.
"""

from __future__ import annotations

import base64
import html
import multiprocessing
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from threadpoolctl import threadpool_limits

from ml.oof import BASELINE_NAMES
from ml.options import MODEL_NAMES as ML_MODEL_NAMES
from ml.verdict import ABOVE
from read.agreement import caption as agreement_caption
from read.grammar_context import why_not_estimable
from read.guides import LEXICAL_NOT_FACE, READING_GUIDE, ROLES_GUIDE
from read.licences import CORPUS_CITATION, CORPUS_NOTICE, lexicon_licence
from read.report import data as report_data
from read.report.analyses import Analyses, LabelAnalyses, load_analyses
from read.report.analysis_figures import draw_analyses
from read.report.data import ReportData, Training
from read.report.figures import MEASURED_KEY, Chart, draw
from read.report.measured import MeasuredVsCoded, pooled_first
from signaffect.core.atomic import atomic_files
from signaffect.core.choices import FAMILIES
from signaffect.core.warehouse import kept_open

HTML_NAME = "report.html"
MD_NAME = "report.md"


# --- blocks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass(frozen=True)
class Para:
    """Plain text; `backticked` spans become code."""

    text: str


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    caption: str = ""
    #: HTML only: fold the table under a <summary> (Markdown shows it plainly).
    folded: str = ""


@dataclass(frozen=True)
class FigureBlock:
    chart: Chart
    caption: str = ""


Block = Heading | Para | Table | FigureBlock


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


# --- number formats ---------------------------------------------------------------------


def fmt_int(value: object) -> str:
    return "" if value is None else f"{int(value):,}"  # type: ignore[call-overload]


def fmt_p(value: object, digits: int = 3) -> str:
    return "" if value is None else f"{float(value):.{digits}f}"  # type: ignore[arg-type]


def fmt_q(value: object) -> str:
    """q-values: 0 means the p-value underflowed (G² beyond ~1400)."""
    if value is None:
        return ""
    q = float(value)  # type: ignore[arg-type]
    if q == 0:
        return "<1e-300"
    return f"{q:.1e}" if q < 0.001 else f"{q:.3f}"


def fmt_or(odds: object, low: object, high: object) -> str:
    """An odds ratio with its interval, or "not estimable" where it was not estimated."""
    if odds is None:
        return "not estimable"
    return f"{fmt_p(odds, 2)} [{fmt_p(low, 2)}, {fmt_p(high, 2)}]"


def table_from_arrow(
    table: pa.Table,
    columns: dict[str, tuple[str, object]],
    caption: str = "",
    folded: str = "",
) -> Table:
    """A Table block: `columns` maps an Arrow column to (header, formatter)."""
    rows = [
        [fmt(row[name]) if callable(fmt) else str(row[name]) for name, (_, fmt) in columns.items()]
        for row in table.to_pylist()
    ]
    numeric = [
        pa.types.is_integer(table.schema.field(name).type)
        or pa.types.is_floating(table.schema.field(name).type)
        for name in columns
    ]
    return Table([h for h, _ in columns.values()], rows, numeric, caption, folded)


#: A cell of a table built from dict rows: the row in, the cell's text out.
Cell = Callable[[dict[str, Any]], str]
#: One column of such a table: header, cell, right-aligned as a number.
Column = tuple[str, Cell, bool]


def table_from_rows(
    rows: list[dict[str, Any]], columns: list[Column], caption: str = "", folded: str = ""
) -> Table:
    """A Table block whose cells are computed from several fields of each row."""
    return Table(
        [header for header, _, _ in columns],
        [[cell(row) for _, cell, _ in columns] for row in rows],
        [numeric for _, _, numeric in columns],
        caption,
        folded,
    )


def _text(name: str) -> Cell:
    return lambda row: str(row[name])


def _int(name: str) -> Cell:
    return lambda row: fmt_int(row[name])


def _ratio(part: str, whole: str) -> Cell:
    return lambda row: f"{row[part]} / {row[whole]}"


def _or(odds: str, low: str, high: str) -> Cell:
    return lambda row: fmt_or(row[odds], row[low], row[high])


def _stratum_or(key: str) -> Cell:
    """A grammar stratum's OR [CI], or 'not estimable' with its tokens showing the feature."""

    def cell(row: dict[str, Any]) -> str:
        if not row[f"estimable_{key}"]:
            counts = (row[f"n_{name}_{key}"] for name in ("feature", "label", "units"))
            return why_not_estimable(*counts)
        if row[f"or_ci_low_{key}"] is None:
            return f"{fmt_p(row[f'odds_ratio_{key}'], 2)} (no interval: no token with both)"
        return fmt_or(row[f"odds_ratio_{key}"], row[f"or_ci_low_{key}"], row[f"or_ci_high_{key}"])

    return cell


# --- the report's content ---------------------------------------------------------------


def build_document(data: ReportData, charts: Sequence[Chart]) -> Document:
    doc = Document("SignAffect report")
    by_key = {c.key: c for c in charts}
    prov = data.provenance
    doc.add(
        Para(f"Generated {prov.generated_at.isoformat()} from warehouse `{prov.db}`."),
        table_from_arrow(
            data.headline,
            {name: (name.replace("_", " "), fmt_int) for name in data.headline.column_names},
            caption="What the warehouse holds (frames at 30 fps; frame features = frame x "
            "active feature rows).",
        ),
    )
    _counts_section(doc, data, by_key)
    _association_section(doc, data, by_key)
    for section in (GRAMMAR_SECTION, SIGNERS_SECTION, TIMING_SECTION):
        _analysis_section(doc, data, by_key, section)
    _measured_section(doc, data.measured, by_key)
    _training_section(doc, data, by_key)
    _provenance_section(doc, data)
    return doc


def _counts_section(doc: Document, data: ReportData, by_key: dict[str, Chart]) -> None:
    doc.add(
        Heading(2, "How often each feature occurs", "counts"),
        Para(
            "Frames in which each feature is active (`dim_features.n_frames`), most frequent "
            "first. A frame can carry many features at once."
        ),
    )
    for chart in data.counts:
        figure = by_key.get(chart.key)
        if figure is None:
            doc.add(Para(f"No {chart.title.lower()} in this warehouse."))
            continue
        top = chart.table.to_pylist()[0]
        doc.add(
            FigureBlock(
                figure,
                f"Most frequent: {top['feature']} ({top['n_frames']:,} frames).",
            ),
            table_from_arrow(
                chart.table,
                {
                    "feature": ("feature", str),
                    "feature_kind": ("kind", str),
                    "n_frames": ("frames", fmt_int),
                    "n_utterances": ("utterances", fmt_int),
                    "n_stories": ("stories", fmt_int),
                },
                folded=f"The numbers: {chart.title}",
            ),
        )


#: The columns of a top-features table in the report.
ASSOCIATION_COLUMNS: dict[str, tuple[str, object]] = {
    "rank": ("rank", str),
    "feature": ("feature", str),
    "n_both": ("with label", fmt_int),
    "n_label": ("label units", fmt_int),
    "n_units": ("all units", fmt_int),
    "p_feature": ("P(feature)", fmt_p),
    "p_feature_given_label": ("P(feature | label)", fmt_p),
    "lift": ("lift", lambda v: fmt_p(v, 2)),
    "odds_ratio": ("OR", lambda v: fmt_p(v, 2)),
    "or_ci_low": ("OR 95% CI low", lambda v: fmt_p(v, 2)),
    "or_ci_high": ("OR 95% CI high", lambda v: fmt_p(v, 2)),
    "q_value": ("q-value", fmt_q),
    "n_glosses_both": ("glosses", fmt_int),
    "top_gloss": ("top gloss", lambda v: "" if v is None else str(v)),
    "note": ("note", str),
}


def _mixed_model_columns(table: pa.Table) -> dict[str, tuple[str, object]]:
    """The stored `cli.py confirm` fits, when any pair of the table has one."""
    if "mixed_note" not in table.column_names or not any(table["mixed_note"].to_pylist()):
        return {}
    return {
        "mixed_text": ("mixed model β [95% CI]", str),
        "mixed_note": ("sign random effect", str),
    }


def _association_section(doc: Document, data: ReportData, by_key: dict[str, Chart]) -> None:
    doc.add(
        Heading(2, "Features that go with an emotion label", "associations"),
        Para(
            f"{data.label_note} For each label, the {data.k} SignStream face codes and, "
            f"separately, the {data.k} FACS action units that go with it at "
            f"{report_data.ASSOCIATION_GRAIN} grain, from `fct_label_feature_associations`. "
            f"{LEXICAL_NOT_FACE}"
        ),
        Para(READING_GUIDE),
        Para(ROLES_GUIDE),
    )
    for label in data.labels:
        doc.add(Heading(3, label, "label-" + re.sub(r"[^a-z0-9]+", "-", label.lower())))
        for family in FAMILIES:
            top = data.top[(label, family)]
            doc.add(
                table_from_arrow(
                    top.table,
                    ASSOCIATION_COLUMNS | _mixed_model_columns(top.table),
                    caption=top.caption,
                )
            )
    chart = by_key.get("heatmap")
    if chart is not None and data.heatmap is not None:
        totals = {
            row["label"]: row["n_label_all"]
            for row in data.heatmap.to_pylist()
            if row["n_label_all"] is not None
        }
        doc.add(
            FigureBlock(
                chart,
                f"Grain: {report_data.ASSOCIATION_GRAIN} tokens. Each cell: lift = "
                "P(feature | label) / P(feature), from `fct_label_feature_associations`; red "
                "above 1 (more frequent with the label), blue below; blank where the pair was "
                "not tested (too few signs together, or in too few stories). P(feature) is "
                "beside each row. Signs with the label: "
                + "; ".join(f"{k} {v:,}" for k, v in totals.items())
                + ".",
            )
        )


# --- the grammar, signer and timing sections --------------------------------------------


@dataclass(frozen=True)
class AnalysisSection:
    """The shape the grammar, signer and timing sections share: a heading and an intro,
    then, when there is a label to analyse, the figure keyed by the heading's anchor and the
    section's tables. `{resamples}` in the figure caption becomes the number of draws."""

    heading: Heading
    intro: str
    figure_caption: str
    tables: Callable[[Analyses], list[Table]]


def _analysis_section(
    doc: Document, data: ReportData, by_key: dict[str, Chart], section: AnalysisSection
) -> None:
    doc.add(section.heading, Para(section.intro))
    chart = by_key.get(section.heading.anchor)
    if chart is None or data.analyses is None:
        doc.add(Para("No lexical label to analyse in this warehouse."))
        return
    doc.add(
        FigureBlock(chart, section.figure_caption.format(resamples=data.analyses.resamples)),
        *section.tables(data.analyses),
    )


def _labelled(
    per_label: list[LabelAnalyses], part: Callable[[LabelAnalyses], pa.Table]
) -> list[dict[str, Any]]:
    """The rows of one table of every label, each with its label."""
    return [{**row, "label": a.label} for a in per_label for row in part(a).to_pylist()]


GRAMMAR_COLUMNS: list[Column] = [
    ("label", _text("label"), False),
    ("feature", _text("feature"), False),
    ("inside: with feature / label tokens", _ratio("n_both_inside", "n_label_inside"), True),
    ("OR inside [95% CI]", _stratum_or("inside"), True),
    ("outside: with feature / label tokens", _ratio("n_both_outside", "n_label_outside"), True),
    ("OR outside [95% CI]", _stratum_or("outside"), True),
    ("Mantel-Haenszel OR [95% CI]", _or("mh_odds_ratio", "mh_ci_low", "mh_ci_high"), True),
    ("Breslow-Day p", lambda row: fmt_p(row["breslow_day_p"]), True),
]


def _grammar_tables(analyses: Analyses) -> list[Table]:
    return [
        table_from_rows(
            _labelled(analyses.per_label, lambda a: a.grammar),
            GRAMMAR_COLUMNS,
            "The numbers of the figure. Mantel-Haenszel: the OR pooled over the two strata, "
            "with the Robins-Breslow-Greenland interval; Breslow-Day (Tarone-corrected) p: do "
            "the two strata's ORs differ? Both treat sign tokens as independent, so they are "
            "more confident than the story-bootstrap intervals.",
        )
    ]


GRAMMAR_SECTION = AnalysisSection(
    Heading(2, "Affect or grammar?", "grammar"),
    "The ASL face also carries grammar: the brows mark wh- and yes/no questions, the "
    "head shakes for negation. Each sign token is inside a grammatical marker when "
    "one of its frames lies in the span of a field the field-kinds seed calls "
    "grammatical (wh question, yes-no question, rhetorical question, negative, "
    "topic/focus, conditional/when, relative clause, role shift, adverbial; "
    "`fct_sign_token_grammar`). An association that holds outside every marker cannot "
    "be the grammar's; one that holds only inside may be.",
    "Grain: sign tokens. Mantel-Haenszel odds ratio over the stories of each label's top "
    "SignStream features (its ranking in `fct_label_feature_associations`, grammatical "
    "markers and POS left out) on the tokens inside grammatical markers and on those "
    "outside; 95% exact conditional (mid-p) interval within the stratum's stories. "
    "A missing point: the feature never appears on the label's tokens in that stratum.",
    _grammar_tables,
)

SIGNER_SUMMARY_COLUMNS: list[Column] = [
    ("label", _text("label"), False),
    ("feature", _text("feature"), False),
    ("pooled OR [95% CI]", _or("odds_ratio", "or_ci_low", "or_ci_high"), True),
    ("Breslow-Day p", lambda row: fmt_p(row["heterogeneity_p"]), True),
    ("signers tested", _text("n_signers_tested"), True),
    ("carried by", lambda row: row["reason"] or "no single signer", False),
]
PER_SIGNER_COLUMNS: list[Column] = [
    ("label", _text("label"), False),
    ("feature", _text("feature"), False),
    ("signer", _text("signer_id"), False),
    ("with feature / label tokens", _ratio("n_both", "n_label"), True),
    ("OR [95% CI]", _or("odds_ratio", "or_ci_low", "or_ci_high"), True),
    ("CI", _text("ci_method"), False),
]


def _signer_tables(analyses: Analyses) -> list[Table]:
    per_label = analyses.per_label
    shares = []
    for analysis in per_label:
        shares.append(
            table_from_arrow(
                analysis.signers.shares,
                {
                    "signer_id": ("signer", str),
                    "n_stories": ("stories", fmt_int),
                    "n_tokens": ("sign tokens", fmt_int),
                    "n_label": ("label tokens", fmt_int),
                    "share_of_label": ("share of label", fmt_p),
                    "share_of_tokens": ("share of all tokens", fmt_p),
                },
                caption=f"{analysis.label}: the figure's numbers.",
            )
        )
    return [
        *shares,
        table_from_rows(
            _labelled(per_label, lambda a: a.signers.summary),
            SIGNER_SUMMARY_COLUMNS,
            "Pooled Mantel-Haenszel OR over the stories with its exact conditional (mid-p) "
            "CI; Breslow-Day test of equal ORs across the signers whose tokens hold the label "
            "and both values of the feature (tokens as independent). Carried by: a signer "
            "whose removal makes the pooled CI include 1 (leave-one-signer-out, exact CI); a "
            "signer's share of the label is never a verdict.",
        ),
        table_from_rows(
            _labelled(per_label, lambda a: a.signers.per_signer),
            PER_SIGNER_COLUMNS,
            "Per signer: the MH OR over the signer's stories with its exact conditional "
            "(mid-p) CI, or 'not estimable' with the counts when the signer has fewer "
            "co-occurrences or stories than the association mart tests.",
            folded="Per-signer odds ratios",
        ),
    ]


SIGNERS_SECTION = AnalysisSection(
    Heading(2, "One signer or many?", "signers"),
    "NCSLGR's signers hold very unequal shares of the corpus, so a pooled association "
    "can be one person's way of signing. For each label's top features: each signer's "
    "share of the label's sign tokens, the odds ratio signer by signer, a test of "
    "whether the signers' ORs differ, and the pooled OR with each signer left out.",
    "Grain: sign tokens. Each signer's share of the label's tokens beside their share "
    "of all tokens (`fct_sign_tokens`); the shares of a label add to 1. A signer past "
    "the dashed line holds more than half of the label.",
    _signer_tables,
)

TIMING_METHOD = (
    "Grain: non-manual spans, each against its onset sign, timed from the start of the "
    "ONSET transition coded before the span on its track (else the span's start; the apex "
    "lead, from the span's start, beside it). Within 1 frame either way counts as "
    "simultaneous. Median and interquartile range; 95% CI of the median by a bootstrap "
    "over stories ({resamples:,} draws)."
)


def _timing_tables(analyses: Analyses) -> list[Table]:
    columns: dict[str, tuple[str, object]] = {
        "feature": ("feature", str),
        "group": ("spans", str),
        "n_spans": ("n", fmt_int),
        "n_stories": ("stories", fmt_int),
        "median_lead_ms": ("median lead ms", lambda v: fmt_p(v, 0)),
        "lead_ci_low": ("95% CI low", lambda v: fmt_p(v, 0)),
        "lead_ci_high": ("95% CI high", lambda v: fmt_p(v, 0)),
        "lead_q1": ("Q1", lambda v: fmt_p(v, 0)),
        "lead_q3": ("Q3", lambda v: fmt_p(v, 0)),
        "median_apex_lead_ms": ("apex lead ms", lambda v: fmt_p(v, 0)),
        "share_face_first": ("face first", lambda v: f"{float(v):.0%}"),
        "share_simultaneous": ("simultaneous", lambda v: f"{float(v):.0%}"),
        "share_hands_first": ("hands first", lambda v: f"{float(v):.0%}"),
    }
    tables = [
        table_from_arrow(
            analysis.timing, columns, caption=f"{analysis.label}: the figure's numbers."
        )
        for analysis in analyses.per_label
    ]
    if analyses.brows.num_rows:
        tables.append(
            table_from_arrow(
                analyses.brows,
                columns,
                caption="Brows in questions: onset lead of lowered and raised brows over "
                "all spans, where the onset sign lies in a wh- or yes/no question, and outside "
                "every grammatical marker. " + TIMING_METHOD.format(resamples=analyses.resamples),
            )
        )
    return tables


TIMING_SECTION = AnalysisSection(
    Heading(2, "When the face moves: onset against the sign", "timing"),
    "Each non-manual span (`fct_nonmanual_sign_timing`) is timed against the first "
    "sign it overlaps: onset lead = sign start - start of the face's movement (its ONSET "
    "transition) in ms, positive when the face starts first. Do lowered brows lead "
    "wh-signs? Is the lead different when the sign carries an emotion label?",
    TIMING_METHOD + " Boxes: quartiles; whiskers: 1.5 IQR; outliers hidden.",
    _timing_tables,
)


# --- measured vs coded ----------------------------------------------------------------


def _measured_section(
    doc: Document, measured: MeasuredVsCoded | None, by_key: dict[str, Chart]
) -> None:
    """The stored `cli.py agree` rows and the figure of one utterance."""
    doc.add(
        Heading(2, "Measured vs coded", "measured-vs-coded"),
        Para(
            "How well a face measure taken from the video (or from a tracker's CSV, "
            "`fct_face_measures`) agrees with the annotators' codes, from "
            "`measure_code_agreement` (`cli.py agree MEASURE CODE`). Unit: utterance frames "
            "with a measured face in the files that code the code's field. AUC 0.5 is "
            "chance; kappa's threshold is chosen on the other signers, never on the frames "
            "scored; events match when their onsets differ by at most the tolerance. "
            "Intervals: story bootstrap, thresholds held fixed."
        ),
    )
    if measured is None or not measured.rows.num_rows:
        doc.add(Para("Nothing measured against a code yet: run `cli.py agree`."))
        return
    rows = pooled_first(measured.rows)
    doc.add(table_from_rows(rows, MEASURED_COLUMNS, caption=agreement_caption(
        measured.measure, measured.code, measured.rows)))
    chart = by_key.get(MEASURED_KEY)
    if chart is not None and measured.utterance is not None:
        doc.add(FigureBlock(
            chart,
            f"One utterance ({measured.utterance[0]}, utterance {measured.utterance[1]}: the "
            f"measured utterance with the most frames coded {measured.code}): {measured.measure} "
            "by frame, coded frames shaded, and the signer's threshold chosen on the other "
            "signers (dashed).",
        ))  # fmt: skip


def _agreement_text(name: str) -> Cell:
    def cell(row: dict[str, Any]) -> str:
        value, low, high = row[name], row[f"{name}_ci_low"], row[f"{name}_ci_high"]
        if value is None:
            return "not estimable"
        return f"{value:.2f}" + ("" if low is None else f" [{low:.2f}, {high:.2f}]")

    return cell


#: The columns of the agreement table.
MEASURED_COLUMNS: list[Column] = [
    ("measure", _text("measure"), False),
    ("code", _text("code"), False),
    ("signer", _text("signer"), False),
    ("frames", _int("n_frames"), True),
    ("coded (base rate)",
     lambda r: f"{r['n_coded']:,} ({r['base_rate']:.1%})" if r["base_rate"] is not None else "",
     True),
    ("stories", _int("n_stories"), True),
    ("AUC [95% CI]", _agreement_text("auc"), True),
    ("kappa [95% CI]", _agreement_text("kappa"), True),
    ("event precision", _agreement_text("event_precision"), True),
    ("event recall", _agreement_text("event_recall"), True),
    ("onset diff, median frames", lambda r: "" if r["onset_diff_median"] is None
     else f"{r['onset_diff_median']:+.0f} (n {r['n_onsets']})", True),
]  # fmt: skip


# --- the training and provenance sections -----------------------------------------------


def _run_summary(run: dict[str, object]) -> list[list[str]]:
    def join(value: object) -> str:
        return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)

    fields = [
        ("run", run.get("run_id")),
        ("created", run.get("created_at")),
        ("model", MODEL_NAMES.get(str(run.get("model")), run.get("model"))),
        (
            "cross-validation",
            f"{run.get('cv')}, {run.get('folds')} folds"
            + (f" ({run.get('cv_note')})" if run.get("cv_note") else ""),
        ),
        ("label scope", run.get("scope")),
        ("inputs", join(run.get("input_kinds"))),
        (
            "targets",
            f"{run.get('n_labels')} {run.get('target_kind')} labels"
            + (f", label set {run.get('label_set')}" if run.get("label_set") else ""),
        ),
        ("input features", run.get("n_features")),
        (
            "rows",
            f"{fmt_int(run.get('n_frames'))} "
            f"{'sign tokens' if run.get('grain') == 'sign' else 'frames'} "
            f"({fmt_int(run.get('n_unique_rows'))} distinct rows)",
        ),
        ("settings", run.get("config")),
    ]
    return [[name, "" if value is None else str(value)] for name, value in fields]


MODEL_NAMES = {**ML_MODEL_NAMES, **BASELINE_NAMES}
#: The rows of every comparison: the trained model (ml_runs model_*) and the baselines
#: (runs recorded before the all-positive baseline leave its cells empty).
ROLES = {"model": "", **BASELINE_NAMES}
NO_SKILL = (
    f"The verdict is not \"{ABOVE}\": the importances below describe a model with no "
    "demonstrated skill on held-out stories, not how the face carries these labels."
)


def _verdict_text(run: dict[str, object]) -> str:
    """The lead run's verdict sentence (older runs have none: say so, with no score)."""
    verdict = run.get("verdict")
    if verdict:
        return str(verdict)
    return (
        f"Run {run.get('run_id')} predates the verdict (a story-bootstrap comparison with "
        "the label-prior baseline): rerun `cli.py train` to get one."
    )


def _training_section(doc: Document, data: ReportData, by_key: dict[str, Chart]) -> None:
    doc.add(Heading(2, "Predicting emotion labels from the face", "training"))
    training = data.training
    if training is None:
        doc.add(Para(data.training_note))
        return
    model = MODEL_NAMES.get(str(training.latest.get("model")), str(training.latest.get("model")))
    doc.add(*_lead_run_blocks(training, model))
    if len(training.runs) > 1:
        doc.add(*_cv_comparison_blocks(training))
    if training.folds is not None:
        doc.add(*_fold_blocks(training.folds, by_key, model))
    doc.add(*_per_label_blocks(training, model), *_importance_blocks(training, by_key, model))


def _lead_run_blocks(training: Training, model: str) -> list[Block]:
    """The lead run's verdict first, then what was trained and its averages."""
    latest = training.latest
    return [
        Para(_verdict_text(latest)),
        Para(
            f"The newest story-grouped `cli.py train` run: a {model} predicting every lexical "
            f"label of a frame from its facial inputs (label set "
            f"{latest.get('label_set') or str(latest.get('n_labels')) + ' labels'}), scored on "
            "pooled out-of-fold predictions of stories it never saw, next to a "
            "stratified-random (label-prior) and a majority baseline fitted on the same folds "
            "and the all-positive baseline (every label on every frame); the verdict is "
            "above only when it beats both the label prior and the all-positive baseline "
            "(`ml_runs`, `ml_label_metrics`, `ml_fold_metrics`, `ml_feature_importance`; "
            "every out-of-fold prediction, one row per frame, in `ml_oof_predictions`)."
        ),
        Table(["", "value"], _run_summary(latest), [False, False], "The run."),
        _averages_table(training, model),
    ]


def _cv_comparison_blocks(training: Training) -> list[Block]:
    kfold = [r for r in training.runs if r["cv"] == "kfold"]
    return [
        Heading(3, "Frame-level KFold beside grouped cross-validation", "cv-comparison"),
        Para(
            "The same data and model under each CV mode (the newest run of each). "
            + (f"Warning: {kfold[0].get('leak_warning') or 'kfold leaks'}. " if kfold else "")
            + "Grouped CV keeps each story (or signer) out of the folds it is tested on, "
            "which is the honest estimate for new stories."
        ),
        _comparison_table(training),
    ]


def _fold_blocks(folds: pa.Table, by_key: dict[str, Chart], model: str) -> list[Block]:
    chart = by_key.get("folds")
    blocks: list[Block] = []
    if chart is not None:
        blocks += [
            Heading(3, "Per fold", "folds"),
            FigureBlock(
                chart,
                "Micro-F1 of each held-out fold: the model and the "
                "label-prior baseline (`ml_fold_metrics`).",
            ),
        ]
    blocks.append(
        table_from_arrow(
            folds,
            {
                "fold": ("fold", str),
                "n_frames": ("test frames", fmt_int),
                "n_stories": ("test stories", fmt_int),
                "model_f1": (f"{model} micro-F1", fmt_p),
                "stratified_f1": ("stratified micro-F1", fmt_p),
                "majority_f1": ("majority micro-F1", fmt_p),
            },
            folded="The numbers: per fold",
        )
    )
    return blocks


def _per_label_blocks(training: Training, model: str) -> list[Block]:
    """The lead run's scores per label, then its F1 per label beside the other CV modes'."""
    latest = training.latest
    blocks: list[Block] = [
        Heading(3, "Per label", "per-label"),
        table_from_arrow(
            training.per_label,
            {
                "label": ("label", str),
                "support": ("support (frames)", fmt_int),
                "precision": ("P", fmt_p),
                "recall": ("R", fmt_p),
                "f1": ("F1", fmt_p),
                "stratified_f1": ("prior (stratified) F1", fmt_p),
                "majority_f1": ("majority F1", fmt_p),
                "beats_prior": ("beats its prior", _yes_no),
                "average_precision": ("AP", fmt_p),
                "ap_interval": ("AP 95% CI", str),
                "prevalence": ("prevalence", fmt_p),
                "ap_reading": ("AP vs prevalence", str),
            },
            caption=f"Run {latest['run_id']} ({latest['cv']}): the {model}'s precision, "
            "recall and F1 per label, with the baselines' F1 and whether the label beats its "
            "own prior; the average precision (AP) of its scores with a story-bootstrap 95% "
            "CI beside the label's prevalence among the held-out frames, which is what a "
            "ranking that knows nothing scores.",
        ),
    ]
    if training.per_label_compared is not None:
        columns: dict[str, tuple[str, object]] = {
            "label": ("label", str),
            "support": ("support", fmt_int),
        }
        for run in training.runs:
            columns[f"f1_{run['run_id']}"] = (f"F1 {run['cv']}", fmt_p)
        blocks.append(
            table_from_arrow(
                training.per_label_compared,
                columns,
                caption=f"The {model}'s F1 per label under each CV mode: "
                + "; ".join(f"{r['cv']} = run {r['run_id']}" for r in training.runs)
                + ".",
            )
        )
    return blocks


def _yes_no(value: object) -> str:
    return "" if value is None else ("yes" if value else "no")


IMPORTANCE_CAPTIONS = {
    "permutation": "Permutation importance: the drop in held-out micro-F1 when one input "
    "is shuffled among a fold's test frames (mean over folds, weighted by test frames).",
    "impurity": "Impurity importance: mean decrease in impurity of the forest refitted "
    "on all frames (what it splits on, whatever its held-out skill).",
}


def _importance_blocks(training: Training, by_key: dict[str, Chart], model: str) -> list[Block]:
    if not training.importances.num_rows:
        return []
    blocks: list[Block] = [Heading(3, f"Which inputs the {model} uses", "importances")]
    if training.latest.get("verdict_reading") != ABOVE:
        blocks.append(Para(NO_SKILL))
    chart = by_key.get("importances")
    if chart is not None:
        blocks.append(FigureBlock(chart, chart.title + "."))
    for kind, caption in IMPORTANCE_CAPTIONS.items():
        rows = pa.Table.from_pylist(
            [r for r in training.importances.to_pylist() if r["kind"] == kind],
            schema=training.importances.schema,
        )
        if rows.num_rows:
            blocks.append(
                table_from_arrow(
                    rows,
                    {
                        "rank": ("rank", str),
                        "feature": ("feature", str),
                        "importance": (f"{kind} importance", lambda v: fmt_p(v, 4)),
                        "importance_std": ("std", lambda v: fmt_p(v, 4)),
                    },
                    caption=caption,
                    folded=f"The numbers: {kind} importance",
                )
            )
    return blocks


def _role_rows(model: str, cells: Callable[[str, str], list[str]]) -> list[list[str]]:
    """One row per model (the trained one, then the baselines) and average: its name, the
    average, then `cells(role, average)`."""
    return [
        [name or model, average, *cells(role, average)]
        for role, name in ROLES.items()
        for average in ("micro", "macro", "weighted")
    ]


def _averages_table(training: Training, model: str) -> Table:
    run = training.latest
    return Table(
        ["model", "average", "P", "R", "F1"],
        _role_rows(
            model,
            lambda role, average: [
                fmt_p(run.get(f"{role}_{average}_{m}")) for m in ("precision", "recall", "f1")
            ],
        ),
        [False, False, True, True, True],
        f"Averages of run {run['run_id']} ({run['cv']} CV): the {model} vs the baselines.",
    )


def _comparison_table(training: Training) -> Table:
    runs = training.runs
    return Table(
        ["model", "average", *(f"F1 {r['cv']} ({r['folds']} folds)" for r in runs)],
        _role_rows(
            MODEL_NAMES.get(str(training.latest.get("model")), "model"),
            lambda role, average: [fmt_p(r.get(f"{role}_{average}_f1")) for r in runs],
        ),
        [False, False, *(True for _ in runs)],
        "F1 by CV mode: " + "; ".join(f"{r['cv']} = run {r['run_id']}" for r in runs) + ".",
    )


#: Where a reader checks a result against the video (README "Back to ELAN").
ELAN_NOTE = (
    "To check any result against the video, `cli.py export --elan DIR` writes each story as "
    "an ELAN file: the source annotation's tiers and, beside them, SignAffect's derived "
    "tiers (lexical labels per sign, FACS action units, grammatical markers, FER's top "
    "emotion, the signs where a label's top face feature co-occurs with it), each named "
    "`SignAffect auto: ...` with a controlled vocabulary, times on the frame grid, and the "
    "story's video linked."
)


def _provenance_section(doc: Document, data: ReportData) -> None:
    prov = data.provenance
    doc.add(
        Heading(2, "Provenance", "provenance"),
        Para(CORPUS_NOTICE + " Cite: " + CORPUS_CITATION),
        Para(ELAN_NOTE),
        table_from_arrow(
            prov.files,
            {
                "source_file": ("corpus file", str),
                "content_hash": ("content hash", str),
                "n_bytes": ("bytes", fmt_int),
            },
            caption=f"{prov.files.num_rows} corpus files as ingested.",
            folded=f"Corpus files and content hashes ({prov.files.num_rows})",
        ),
        _lexicons_block(prov.lexicons),
        _dbt_vars_block(prov.dbt_vars),
        Table(
            ["package", "version"],
            [[k, v] for k, v in prov.versions.items()],
            [False, False],
            "Versions of the software that wrote this report.",
            folded="Package versions",
        ),
    )


def _licence_cell(row: dict[str, Any]) -> str:
    licence, citation = lexicon_licence(row["lexicon"])
    return f"{licence}. {citation}".strip()


LEXICON_COLUMNS: list[Column] = [
    ("lexicon", _text("lexicon"), False),
    ("hits", _int("n_hits"), True),
    ("categories hit", _int("n_categories"), True),
    ("labels kept", _int("n_labels_kept"), True),
    ("label frames", _int("n_label_frames"), True),
    ("licence and citation", _licence_cell, False),
]


def _lexicons_block(lexicons: pa.Table) -> Block:
    if not lexicons.num_rows:
        return Para("No lexicon hits were ingested (`--no-lexicons`).")
    return table_from_rows(
        lexicons.to_pylist(),
        LEXICON_COLUMNS,
        "Lexicons: word hits in glosses and translations (`raw.lexicon_hits`), and "
        "the labels kept after the support filter (`dim_features`).",
    )


def _dbt_vars_block(dbt_vars: list[tuple[str, str, str]]) -> Block:
    if not dbt_vars:
        return Para("No build is recorded in this warehouse, so neither are its settings.")
    return Table(
        ["dbt var", "value", "source"],
        [list(v) for v in dbt_vars],
        [False, False, False],
        "The settings of the last build (its dbt vars, recorded in the warehouse): the "
        "frame convention, the lexical scope, the resamples and seeds, ... A rebuild keeps "
        "them; `cli.py build --help` says how to change one.",
    )


# --- writers ----------------------------------------------------------------------------

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b;
       max-width: 1100px; margin: 2em auto; padding: 0 1.2em; }
h1 { font-size: 1.7em; margin-bottom: .2em; }
h2 { font-size: 1.35em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
h3 { font-size: 1.1em; margin-top: 1.5em; }
nav ul { columns: 2; padding-left: 1.2em; }
table { border-collapse: collapse; margin: .8em 0 1.2em; font-size: 13px; }
caption { caption-side: top; text-align: left; color: #444; padding-bottom: .3em; }
th, td { border-bottom: 1px solid #e2e2e2; padding: .25em .7em; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td { overflow-wrap: anywhere; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 13px; }
code { background: #f4f4f4; padding: 0 .25em; border-radius: 3px; font-size: 90%; }
details { margin: .3em 0 1.2em; }
summary { cursor: pointer; color: #335; }
"""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _inline_html(text: str) -> str:
    parts = text.split("`")
    return "".join(
        f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts)
    )


def _table_html(table: Table) -> str:
    def cls(i: int) -> str:
        return ' class="num"' if table.numeric[i] else ""

    head = "".join(f"<th{cls(i)}>{html.escape(c)}</th>" for i, c in enumerate(table.columns))
    body = "\n".join(
        "<tr>" + "".join(f"<td{cls(i)}>{html.escape(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in table.rows
    )
    caption = f"<caption>{_inline_html(table.caption)}</caption>" if table.caption else ""
    markup = f"<table>{caption}\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"
    if table.folded:
        return f"<details><summary>{html.escape(table.folded)}</summary>\n{markup}\n</details>"
    return markup


def to_html(doc: Document) -> str:
    parts: list[str] = []
    toc = [b for b in doc.blocks if isinstance(b, Heading) and b.level == 2]
    for block in doc.blocks:
        if isinstance(block, Heading):
            anchor = f' id="{html.escape(block.anchor)}"' if block.anchor else ""
            parts.append(f"<h{block.level}{anchor}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            parts.append(f"<p>{_inline_html(block.text)}</p>")
        elif isinstance(block, Table):
            parts.append(_table_html(block))
        else:
            encoded = base64.b64encode(block.chart.png).decode("ascii")
            caption = f"<figcaption>{_inline_html(block.caption)}</figcaption>"
            parts.append(
                f'<figure id="fig-{html.escape(block.chart.key)}"><img src="data:image/png;base64,'
                f'{encoded}" alt="{html.escape(block.chart.alt)}">{caption}</figure>'
            )
    nav = (
        "<nav><ul>"
        + "".join(
            f'<li><a href="#{html.escape(h.anchor)}">{html.escape(h.text)}</a></li>' for h in toc
        )
        + "</ul></nav>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(doc.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(doc.title)}</h1>\n{nav}\n" + "\n".join(parts) + "\n</body>\n</html>\n"
    )


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_escape(text: str) -> str:
    """Escape Markdown punctuation (and newlines, for table cells)."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def _inline_md(text: str) -> str:
    parts = text.split("`")
    return "".join(f"`{p}`" if i % 2 else md_escape(p) for i, p in enumerate(parts))


def _table_md(table: Table) -> str:
    lines = []
    if table.caption:
        lines += [f"*{_inline_md(table.caption)}*", ""]
    lines.append("| " + " | ".join(md_escape(c) for c in table.columns) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in table.numeric) + "|")
    lines += ["| " + " | ".join(md_escape(v) for v in row) + " |" for row in table.rows]
    return "\n".join(lines)


def to_markdown(doc: Document) -> str:
    parts = [f"# {md_escape(doc.title)}"]
    for block in doc.blocks:
        if isinstance(block, Heading):
            parts.append(f"{'#' * block.level} {md_escape(block.text)}")
        elif isinstance(block, Para):
            parts.append(_inline_md(block.text))
        elif isinstance(block, Table):
            if block.folded and not block.caption:
                parts.append(f"*{md_escape(block.folded)}*")
            parts.append(_table_md(block))
        else:
            parts.append(f"![{md_escape(block.chart.alt)}]({block.chart.key}.png)")
            parts.append(f"*{_inline_md(block.caption)}*")
    return "\n\n".join(parts) + "\n"


@contextmanager
def beside(work: Callable[[ReportData], list[Chart]], data: ReportData) -> Iterator[Future]:
    """`work(data)` in a forked process while the block runs: the count charts and the
    heatmap are drawn on the second core while the analyses compute on the first (the
    child only draws with matplotlib and returns PNG bytes). Without fork, in the block's
    own process first."""
    if "fork" not in multiprocessing.get_all_start_methods():
        done: Future = Future()
        done.set_result(work(data))
        yield done
        return
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool.submit(work, data)


def write_report(
    db: Path,
    out_dir: Path,
    labels: Sequence[str] | None = None,
    top_n: int = 25,
    k: int = 10,
) -> tuple[Path, Path]:
    """Build the report from warehouse `db` (read-only) into `out_dir`.

    Writes `report.html` (self-contained), `report.md` and the Markdown's `<figure>.png`
    files, all or none (`signaffect.core.atomic.atomic_files`); files of an earlier report
    in `out_dir` are replaced. `labels` are the lexical
    labels to rank features for (default: empath:negative_emotion and empath:confusion if
    present, else the most frequent labels); `top_n` bars per count chart; `k` rows per
    label table. Returns (html_path, md_path).
    """
    # One BLAS thread: the bootstraps' products are small, and a second thread spinning
    # between them only takes the core the rest of the report needs.
    with kept_open(db), threadpool_limits(limits=1, user_api="blas"):
        data = report_data.load(db, labels=labels, top_n=top_n, k=k)
        with beside(draw, data) as drawn:
            data.analyses = load_analyses(db, data.labels)
            charts = drawn.result() + draw_analyses(data.analyses)
    doc = build_document(data, charts)
    with atomic_files(out_dir) as files:
        for chart in charts:
            files.write_bytes(f"{chart.key}.png", chart.png)
        html_path = files.write_text(HTML_NAME, to_html(doc))
        md_path = files.write_text(MD_NAME, to_markdown(doc))
    return html_path, md_path
