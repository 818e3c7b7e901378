"""Face onset against sign onset: summaries of `fct_nonmanual_sign_timing`.

Each span is counted once, against its onset sign (the first sign it overlaps,
`sign_order = 1`), or with `relative_to="utterance"` against its utterance's first sign.
The lead is measured from where the face starts moving: the start of the ONSET transition
coded just before the span on its track, else the span's own start (the mart's
`onset_lead_ms`); the lead from the span's start (its apex) is reported beside it. A
summary gives the median lead (positive: the face starts first) and its interquartile
range, and a 95% percentile CI of the median from a bootstrap over stories: spans of a
story share a signer and a coder, so stories, not spans, are drawn with replacement
(the draws of `clustered_stats.cluster_weights`, seeded the same way). Leads come in whole
frames, so a lead within one frame either way counts as simultaneous; against the onset
sign, the shares face first / simultaneous / hands first (the mart's `onset_timing`) get
story-bootstrap CIs from the same draws. Groups split the
spans by the onset sign's grammatical context (each marker it lies inside, or none) and,
given a label, by whether the onset sign carries it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from signaffect.core.errors import SignAffectError
from signaffect.core.settings import BOOTSTRAP_RESAMPLES
from signaffect.core.warehouse import connect_marts
from signaffect.stats.clustered_stats import Settings, clustered_median, clustered_shares

#: Lead and lag columns of each reference point.
RELATIVE_TO = {
    "sign": ("onset_lead_ms", "offset_lag_ms"),
    "utterance": ("utterance_onset_lead_ms", "utterance_offset_lag_ms"),
}
#: The classes of `onset_timing`, in the order they are reported.
TIMINGS = ("face first", "simultaneous", "hands first")
#: Groups with fewer spans than this are not summarised.
MIN_SPANS = 5
#: Group name for onset signs inside no grammatical marker.
OUTSIDE = "outside grammar"


@dataclass(frozen=True)
class TimingSettings:
    resamples: int = BOOTSTRAP_RESAMPLES
    seed: int = 42
    confidence: float = 0.95

    def draws(self) -> Settings:
        """The story bootstrap's settings for these draws."""
        return Settings(resamples=self.resamples, seed=self.seed, confidence=self.confidence)


_SPANS_SQL = """
select
    story,
    {lead} as lead_ms,
    {lead} - (onset_lead_ms - apex_lead_ms) as apex_lead_ms,
    onset_lead_frames as lead_frames,
    has_onset_transition,
    onset_timing,
    {lag} as lag_ms,
    spans_several_signs,
    sign_grammatical_markers,
    list_contains(sign_lexical_labels, $label) as has_label,
from fct_nonmanual_sign_timing
where feature = $feature and sign_order = 1
"""


def load_spans(
    db: Path, feature: str, relative_to: str = "sign", label: str | None = None
) -> pa.Table:
    """One row per span of `feature` against its onset sign: story, lead_ms (from the
    movement's start), apex_lead_ms (from the span's start), lead_frames (against the onset
    sign), has_onset_transition, onset_timing, lag_ms, spans_several_signs,
    sign_grammatical_markers, has_label."""
    if relative_to not in RELATIVE_TO:
        raise SignAffectError(
            f"cannot time relative to {relative_to!r}", f"use one of: {', '.join(RELATIVE_TO)}"
        )
    lead, lag = RELATIVE_TO[relative_to]
    con = connect_marts(db)
    try:
        spans = con.sql(
            _SPANS_SQL.format(lead=lead, lag=lag), params={"feature": feature, "label": label}
        ).to_arrow_table()
        if spans.num_rows == 0:
            _explain_missing(con, feature)
        return spans
    except duckdb.CatalogException:
        raise SignAffectError(
            f"{db} has no fct_nonmanual_sign_timing table",
            "run `cli.py build` to build the timing mart",
        ) from None
    finally:
        con.close()


def summarise(
    db: Path,
    feature: str,
    relative_to: str = "sign",
    label: str | None = None,
    settings: TimingSettings | None = None,
) -> pa.Table:
    """One row per group of spans of `feature` (all, each grammatical context, and with
    and without `label` on the onset sign): spans, stories, median lead with CI and IQR,
    median lag, and the shares that start first and that span several signs."""
    return summarise_spans(feature, load_spans(db, feature, relative_to, label), label, settings)


def summarise_spans(
    feature: str,
    spans: pa.Table,
    label: str | None,
    settings: TimingSettings | None = None,
    keep: Callable[[str], bool] | None = None,
) -> pa.Table:
    """The summaries of `summarise` over spans already loaded; with `keep`, only of the
    groups whose name it accepts (each group's summary is its own: the others' are the
    same either way)."""
    settings = settings or TimingSettings()
    rows = [
        _summary(feature, name, part, settings)
        for name, part in groups(spans, label)
        if keep is None or keep(name)
    ]
    return pa.Table.from_pylist([r for r in rows if r is not None], schema=SUMMARY_SCHEMA)


def groups(spans: pa.Table, label: str | None) -> list[tuple[str, pa.Table]]:
    """(group name, its spans): all; inside each marker, outside grammar; with/without label."""
    markers = spans["sign_grammatical_markers"].to_pylist()
    named = [("all spans", np.ones(spans.num_rows, dtype=bool))]
    for marker in sorted({m for ms in markers for m in ms}):
        named.append((f"inside {marker}", np.array([marker in ms for ms in markers])))
    named.append((OUTSIDE, np.array([not ms for ms in markers])))
    if label is not None:
        has = np.array(spans["has_label"].to_pylist(), dtype=bool)
        named += [(f"sign with {label}", has), (f"sign without {label}", ~has)]
    return [(name, spans.filter(pa.array(mask))) for name, mask in named]


def _summary(
    feature: str, group: str, spans: pa.Table, settings: TimingSettings
) -> dict[str, object] | None:
    if spans.num_rows < MIN_SPANS:
        return None
    story = np.array(spans["story"].to_pylist())
    lead = np.array(spans["lead_ms"].to_pylist(), dtype=np.float64)
    apex = np.array(spans["apex_lead_ms"].to_pylist(), dtype=np.float64)
    lag = np.array(spans["lag_ms"].to_pylist(), dtype=np.float64)
    draws = settings.draws()
    lead_ = clustered_median(lead, story, draws)
    apex_ = clustered_median(apex, story, draws)
    lag_ = clustered_median(lag, story, draws)
    row: dict[str, object] = {
        "feature": feature,
        "group": group,
        "n_spans": spans.num_rows,
        "n_stories": int(np.unique(story).size),
        "n_with_onset": int(np.sum(spans["has_onset_transition"].to_pylist())),
        "median_lead_ms": lead_.median,
        "lead_ci_low": lead_.ci_low,
        "lead_ci_high": lead_.ci_high,
        "lead_q1": lead_.q1,
        "lead_q3": lead_.q3,
        "median_lead_frames": float(np.median(spans["lead_frames"].to_pylist())),
        "median_apex_lead_ms": apex_.median,
        "apex_ci_low": apex_.ci_low,
        "apex_ci_high": apex_.ci_high,
        "median_lag_ms": lag_.median,
        "lag_ci_low": lag_.ci_low,
        "lag_ci_high": lag_.ci_high,
        "share_several_signs": float(np.mean(spans["spans_several_signs"].to_pylist())),
    }
    return row | timing_shares(np.array(spans["onset_timing"].to_pylist()), story, settings)


def timing_shares(
    timing: np.ndarray, story: np.ndarray, settings: TimingSettings
) -> dict[str, float]:
    """The share of each class of TIMINGS among the spans, with its story-bootstrap CI
    (`clustered_stats.clustered_shares`), as the summary's columns."""
    result = clustered_shares(timing, story, TIMINGS, settings.draws())
    out: dict[str, float] = {}
    for i, name in enumerate(TIMINGS):
        column = "share_" + name.replace(" ", "_")
        out |= {column: float(result.shares[i]), f"{column}_ci_low": float(result.ci_low[i]),
                f"{column}_ci_high": float(result.ci_high[i])}
    return out


def _explain_missing(con: duckdb.DuckDBPyConnection, feature: str) -> None:
    kinds = con.execute(
        "select feature_kind from dim_features where feature = $f", {"f": feature}
    ).fetchall()
    if kinds:
        raise SignAffectError(
            f"{feature!r} ({kinds[0][0]}) has no span overlapping a sign",
            "timed kinds are dbt var timing_feature_kinds (facial, head, body, grammatical)",
        )
    raise SignAffectError(
        f"unknown feature {feature!r}",
        'list features with: cli.py query "select feature from dim_features '
        "where feature_kind in ('facial', 'head')\"",
    )


SUMMARY_SCHEMA = pa.schema(
    [(name, pa.string()) for name in ("feature", "group")]
    + [(name, pa.int64()) for name in ("n_spans", "n_stories", "n_with_onset")]
    + [
        (name, pa.float64())
        for name in (
            "median_lead_ms",
            "lead_ci_low",
            "lead_ci_high",
            "lead_q1",
            "lead_q3",
            "median_lead_frames",
            "median_apex_lead_ms",
            "apex_ci_low",
            "apex_ci_high",
            "median_lag_ms",
            "lag_ci_low",
            "lag_ci_high",
            "share_several_signs",
        )
    ]
    + [
        (f"share_{name.replace(' ', '_')}{end}", pa.float64())
        for name in TIMINGS
        for end in ("", "_ci_low", "_ci_high")
    ]
)


def caption(feature: str, relative_to: str, resamples: int) -> str:
    """What a timing table holds and how its intervals were made."""
    reference = (
        "the first sign it overlaps" if relative_to == "sign" else ("its utterance's first sign")
    )
    return (
        f"{feature}: onset lead = start of {reference} - start of the face's movement (the "
        f"ONSET transition coded just before the span on its track, else the span's start), "
        f"in ms (positive: the face starts first); apex lead: from the span's own start; "
        f"lag = end of the span - end of that sign (utterance: of the utterance's last "
        f"sign). Against the onset sign, a lead within 1 frame either way is simultaneous. "
        f"One row per span (fct_nonmanual_sign_timing); groups by the onset sign's "
        f"grammatical markers and label. Medians, IQR, and 95% CIs of medians and shares by "
        f"a bootstrap over stories ({resamples:,} draws); groups under {MIN_SPANS} spans "
        f"are left out."
    )


def for_terminal(rows: pa.Table) -> pa.Table:
    """The summary narrowed for a terminal."""
    data = rows.to_pylist()

    def ms(value: float) -> str:
        return "" if np.isnan(value) else f"{value:.0f}"

    def median(r: dict, key: str, low: str, high: str) -> str:
        return f"{ms(r[key])} [{ms(r[low])}, {ms(r[high])}]"

    def share(r: dict, name: str) -> str:
        column = "share_" + name.replace(" ", "_")
        low, high = r[f"{column}_ci_low"], r[f"{column}_ci_high"]
        interval = "" if np.isnan(low) else f" [{low:.0%}, {high:.0%}]"
        return f"{r[column]:.0%}{interval}"

    return pa.table(
        {
            "group": [r["group"] for r in data],
            "spans (stories)": [f"{r['n_spans']} ({r['n_stories']})" for r in data],
            "with ONSET": [f"{r['n_with_onset']}" for r in data],
            "median lead ms [95% CI]": [
                median(r, "median_lead_ms", "lead_ci_low", "lead_ci_high") for r in data
            ],
            "frames": [f"{r['median_lead_frames']:g}" for r in data],
            "IQR ms": [f"{ms(r['lead_q1'])} to {ms(r['lead_q3'])}" for r in data],
            "apex lead ms [95% CI]": [
                median(r, "median_apex_lead_ms", "apex_ci_low", "apex_ci_high") for r in data
            ],
            "median lag ms [95% CI]": [
                median(r, "median_lag_ms", "lag_ci_low", "lag_ci_high") for r in data
            ],
            **{name: [share(r, name) for r in data] for name in TIMINGS},
        }
    )
