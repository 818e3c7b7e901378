"""What the report's grammar, signer and timing sections show, per label.

Each section starts from the label's sign-grain ranking in `fct_label_feature_associations`
(SignStream codes), so the features examined are the ones the association section lists:
the grammar section takes the first that are not grammatical markers or parts of speech,
the signer section the first of any kind, and the timing section the first facial or head
features. Resamples follow the association mart's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from read.associations import top_features
from read.grammar_context import inside_outside, mart_resamples
from read.sign_units import CONTEXT_EXCLUDED_KINDS, load
from read.signers import SignerAnalysis, analyse
from read.timing import (
    OUTSIDE,
    SUMMARY_SCHEMA,
    TimingSettings,
    load_spans,
    summarise_spans,
)
from signaffect.core.errors import SignAffectError
from signaffect.stats.clustered_stats import Settings

#: Features per label in the grammar and signer sections, and in the timing figure.
K_FEATURES = 5
K_TIMED = 4
#: How far down the label's ranking to look for features of the right kinds.
RANKING_DEPTH = 40
#: Kinds whose spans the timing section shows.
TIMED_KINDS = ("facial", "head")
#: The brow features and question contexts of the timing section's fixed table.
BROWS = ("eye brows=lowered", "eye brows=raised")
QUESTION_GROUPS = ("all spans", "inside wh question", "inside yes-no question", OUTSIDE)


@dataclass(frozen=True)
class LabelAnalyses:
    """The three analyses of one label."""

    label: str
    #: `grammar_context.inside_outside` rows of the label's top features.
    grammar: pa.Table
    signers: SignerAnalysis
    #: Timing summaries (all spans, with and without the label) of the top timed features.
    timing: pa.Table
    #: feature -> onset leads (ms) of its spans whose onset sign has / lacks the label.
    leads: dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Analyses:
    """Every label's analyses, the brows-in-questions timing table, and the resamples."""

    per_label: list[LabelAnalyses]
    brows: pa.Table
    resamples: int


def load_analyses(db: Path, labels: Sequence[str]) -> Analyses:
    """The grammar, signer and timing analyses of each label, and the brow table."""
    settings = Settings(resamples=mart_resamples(db))
    timing_settings = TimingSettings(resamples=settings.resamples, seed=settings.seed)
    return Analyses(
        per_label=[_one(db, label, settings, timing_settings) for label in labels],
        brows=brow_questions(db, timing_settings),
        resamples=settings.resamples,
    )


def brow_questions(db: Path, settings: TimingSettings) -> pa.Table:
    """The brow features' onset lead overall, in wh- and yes/no questions and outside
    grammar (the rows of `timing.summarise` for those groups)."""
    parts = []
    for feature in BROWS:
        try:
            spans = load_spans(db, feature)
        except SignAffectError:
            continue  # a corpus without the feature has no rows here
        parts.append(summarise_spans(feature, spans, None, settings, QUESTION_GROUPS.__contains__))
    return pa.concat_tables(parts) if parts else SUMMARY_SCHEMA.empty_table()


def _label_group(group: str) -> bool:
    """The timing section's groups: all spans, and with / without the label."""
    return group == "all spans" or group.startswith("sign ")


def _one(
    db: Path, label: str, settings: Settings, timing_settings: TimingSettings
) -> LabelAnalyses:
    ranking = top_features(db, label, grain="sign", family="signstream", k=RANKING_DEPTH).table
    kinds = dict(zip(ranking["feature"].to_pylist(), ranking["kind"].to_pylist(), strict=True))
    ranked = list(kinds)
    context_features = [f for f in ranked if kinds[f] not in CONTEXT_EXCLUDED_KINDS]
    # Both analyses count only the features they are given: one load of every kind serves.
    units = load(db, label, "signstream", excluded_kinds=())
    grammar = inside_outside(units, context_features[:K_FEATURES], settings)
    signers = analyse(units, ranked[:K_FEATURES], settings)
    timed = [f for f in ranked if kinds[f] in TIMED_KINDS][:K_TIMED]
    parts, leads = [], {}
    for feature in timed:
        spans = load_spans(db, feature, "sign", label)
        parts.append(summarise_spans(feature, spans, label, timing_settings, _label_group))
        lead = np.array(spans["lead_ms"].to_pylist(), dtype=np.float64)
        has = np.array(spans["has_label"].to_pylist(), dtype=bool)
        leads[feature] = (lead[has], lead[~has])
    timing = pa.concat_tables(parts) if parts else SUMMARY_SCHEMA.empty_table()
    return LabelAnalyses(label, grammar, signers, timing, leads)
