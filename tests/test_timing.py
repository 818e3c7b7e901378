"""Timing summaries: the story-bootstrap median against a slow replay of its documented
draws, the shares' story-bootstrap CIs, the groups, `cli.py timing`, and one NCSLGR span's
leads from its ONSET and its apex recomputed by hand from the XML. The mart's leads on
hand-made spans are dbt unit test `onset_lead_and_lag_on_hand_made_spans`
(tests/test_dbt_unit.py runs it)."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from cli import app
from read.timing import (
    TIMINGS,
    TimingSettings,
    groups,
    load_spans,
    summarise_spans,
    timing_shares,
)
from signaffect.stats.clustered_stats import (
    Settings,
    cluster_weights,
    clustered_median,
    generators,
    interval_quantiles,
    nan_quantiles,
)
from tests.conftest import rows

runner = CliRunner()


def test_clustered_median_replays_its_draws() -> None:
    rng = np.random.default_rng(5)
    story = np.repeat(np.array(["s0", "s1", "s2", "s3", "s4"]), [3, 7, 1, 4, 6])
    values = rng.integers(-10, 10, size=story.size).astype(float) * 33.0
    settings = Settings(resamples=300, seed=11)
    found = clustered_median(values, story, settings)
    assert (found.median, found.q1, found.q3) == tuple(np.quantile(values, [0.5, 0.25, 0.75]))
    clusters = sorted(set(story))
    boot, _ = generators(settings.seed)
    draws = boot.integers(0, len(clusters), size=(settings.resamples, len(clusters)))
    medians = [
        np.median(np.concatenate([values[story == clusters[c]] for c in row])) for row in draws
    ]
    assert (found.ci_low, found.ci_high) == pytest.approx(
        tuple(np.quantile(medians, [0.025, 0.975]))
    )


def test_every_draw_at_once_is_each_draws_median_on_real_spans(corpus_db: Path) -> None:
    """The story bootstrap of the median, all draws at once, gives exactly (==) the interval
    of each draw's own `np.median` over its drawn stories' spans (each story's spans repeated
    as often as it was drawn), on NCSLGR's raised brows: leads, apex leads and lags, all
    spans and the wh-question spans alone."""
    spans = load_spans(corpus_db, "eye brows=raised")
    settings = Settings(resamples=200, seed=42)
    in_wh = np.array(["wh question" in m for m in spans["sign_grammatical_markers"].to_pylist()])
    for part in (spans, spans.filter(pa.array(in_wh))):
        story = np.array(part["story"].to_pylist())
        clusters, code = np.unique(story, return_inverse=True)
        weights = cluster_weights(clusters.size, settings.resamples, generators(settings.seed)[0])
        for column in ("lead_ms", "apex_lead_ms", "lag_ms"):
            values = np.array(part[column].to_pylist(), dtype=np.float64)
            medians = np.array(
                [np.median(np.repeat(values, w[code].astype(np.int64))) for w in weights]
            )
            expected = nan_quantiles(medians[:, None], interval_quantiles(0.95))[:, 0]
            found = clustered_median(values, story, settings)
            assert (found.ci_low, found.ci_high) == tuple(expected)
            assert found.median == np.median(values)


def test_one_story_has_no_interval() -> None:
    found = clustered_median(np.array([1.0, 2.0, 3.0]), np.array(["a", "a", "a"]),
                             Settings(resamples=10))
    assert found.median == 2.0 and np.isnan(found.ci_low) and np.isnan(found.ci_high)


def spans(n: int) -> pa.Table:
    """n spans: the first half in wh questions and led by 100 ms (3 frames; their apex by
    33), the rest outside grammar and 50 ms late (simultaneous); every third onset sign
    carries the label."""
    half = n // 2
    return pa.table(
        {
            "story": [f"s{i % 4}" for i in range(n)],
            "lead_ms": [100] * half + [-50] * (n - half),
            "apex_lead_ms": [33] * half + [-50] * (n - half),
            "lead_frames": [3] * half + [-1] * (n - half),
            "has_onset_transition": [True] * half + [False] * (n - half),
            "onset_timing": ["face first"] * half + ["simultaneous"] * (n - half),
            "lag_ms": [0] * n,
            "spans_several_signs": [i % 2 == 0 for i in range(n)],
            "sign_grammatical_markers": [["wh question"]] * half + [[]] * (n - half),
            "has_label": [i % 3 == 0 for i in range(n)],
        }
    )


def test_groups_and_their_medians() -> None:
    rows = summarise_spans("f", spans(20), "x:y", TimingSettings(resamples=50)).to_pylist()
    by_group = {r["group"]: r for r in rows}
    assert list(by_group) == [
        "all spans",
        "inside wh question",
        "outside grammar",
        "sign with x:y",
        "sign without x:y",
    ]
    assert by_group["inside wh question"]["median_lead_ms"] == 100
    assert by_group["inside wh question"]["share_face_first"] == 1.0
    assert by_group["inside wh question"]["median_apex_lead_ms"] == 33
    assert by_group["all spans"]["share_simultaneous"] == 0.5
    assert by_group["all spans"]["n_with_onset"] == 10
    assert by_group["outside grammar"]["median_lead_ms"] == -50
    assert by_group["all spans"]["n_spans"] == 20 and by_group["all spans"]["n_stories"] == 4
    assert by_group["sign with x:y"]["n_spans"] == 7
    assert by_group["all spans"]["share_several_signs"] == 0.5
    assert [name for name, _ in groups(spans(4), None)] == [
        "all spans",
        "inside wh question",
        "outside grammar",
    ]
    # Groups under MIN_SPANS spans are left out.
    assert summarise_spans("f", spans(4), None, TimingSettings(resamples=5)).num_rows == 0


def test_cli_timing(sample_db: Path) -> None:
    base = ["--db", str(sample_db), "timing", "eye brows=lowered", "--resamples", "50"]
    result = runner.invoke(app, base)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("eye brows=lowered: onset lead = start of the first sign")
    as_json = runner.invoke(app, [*base, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)[0]["group"] == "all spans"
    utterance = runner.invoke(app, [*base, "--relative-to", "utterance", "--format", "csv"])
    assert utterance.exit_code == 0, utterance.output
    assert utterance.stdout.startswith("feature,group,n_spans")
    unknown = runner.invoke(app, ["--db", str(sample_db), "timing", "eye brows=sideways"])
    assert unknown.exit_code == 1
    assert "unknown feature 'eye brows=sideways'" in unknown.stderr


#: The span timed by hand: utterance 28 of this file, whose lowered brows start with the
#: sign ICL:S"driving urgently" (apex lead 0) after an ONSET coded 300 ms earlier.
HAND_FILE, HAND_UTTERANCE, HAND_FEATURE = "DSP Dead Dog Story.xml", "28", "eye brows=lowered"


def lead_from_xml(path: Path, utterance_id: str, field: str, value: str) -> dict[str, int]:
    """The first `field=value` span of the utterance preceded on its track by an ONSET
    (value id 400001), read straight from the SignStream XML: sign start - ONSET start and
    sign start - span start, against the first main-gloss sign it overlaps (ms from the
    utterance start; E is the start of the last frame, so spans overlap when S <= E')."""
    root = ET.parse(path).getroot()
    fields = {f.get("NAME"): f for f in root.iter("FIELD")}
    values = {v.get("NAME"): v.get("ID") for v in fields[field].iter("VALUE")}
    utterance = next(u for u in root.iter("UTTERANCE") if u.get("ID") == utterance_id)

    def track(name: str) -> list[ET.Element]:
        fid = fields[name].get("ID")
        return [a for t in utterance.iter("TRACK") if t.get("FID") == fid for a in t.iter("A")]

    marks = sorted(track(field), key=lambda a: (int(a.get("S", 0)), int(a.get("E", 0))))
    for before, span in itertools.pairwise(marks):
        if span.get("VID") == values[value] and before.get("VID") == "400001":
            start, end = int(span.get("S", 0)), int(span.get("E", 0))
            sign = min(
                int(a.get("S", 0)) for a in track("main gloss")
                if int(a.get("S", 0)) <= end and start <= int(a.get("E", 0))
            )
            return {"onset_lead_ms": sign - int(before.get("S", 0)), "apex_lead_ms": sign - start}
    raise AssertionError(f"no {field}={value} span after an ONSET in utterance {utterance_id}")


def check_hand_timed_span(db: Path, corpus: Path) -> None:
    """The mart's leads of the hand-timed span equal those read from its XML."""
    expected = lead_from_xml(corpus / HAND_FILE, HAND_UTTERANCE, "eye brows", "lowered")
    found = rows(
        db,
        "select onset_lead_ms, apex_lead_ms, onset_lead_frames, has_onset_transition, "
        f"onset_timing from fct_nonmanual_sign_timing where source_file = '{HAND_FILE}' "
        f"and utterance_id = {HAND_UTTERANCE} and feature = '{HAND_FEATURE}' "
        "and sign_order = 1 and has_onset_transition order by span_start_ms limit 1",
    )
    lead_ms, apex_ms, lead_frames, has_onset, timing = found[0]
    assert (lead_ms, apex_ms) == (expected["onset_lead_ms"], expected["apex_lead_ms"]) == (300, 0)
    assert has_onset and abs(lead_frames - lead_ms * 29.97 / 1000) <= 1
    assert timing == "face first"


def test_one_span_timed_by_hand_from_its_xml(corpus_db: Path, corpus_dir: Path) -> None:
    check_hand_timed_span(corpus_db, corpus_dir)


def test_shares_replay_their_draws() -> None:
    story = np.repeat(np.array(["a", "b", "c", "d"]), [4, 2, 5, 3])
    timing = np.array(
        ["face first", "simultaneous", "face first", "hands first", "face first", "face first",
         "simultaneous", "simultaneous", "face first", "hands first", "face first",
         "face first", "hands first", "face first"]
    )
    settings = TimingSettings(resamples=200, seed=7)
    shares = timing_shares(timing, story, settings)
    assert shares["share_face_first"] == pytest.approx(8 / 14)
    assert sum(shares[f"share_{t.replace(' ', '_')}"] for t in TIMINGS) == pytest.approx(1)
    boot, _ = generators(settings.seed)
    draws = boot.integers(0, 4, size=(settings.resamples, 4))
    clusters = ["a", "b", "c", "d"]
    replicate = [
        np.mean(np.concatenate([timing[story == clusters[c]] for c in row]) == "hands first")
        for row in draws
    ]
    low, high = np.quantile(replicate, [0.025, 0.975])
    assert (shares["share_hands_first_ci_low"], shares["share_hands_first_ci_high"]) == (
        pytest.approx(low), pytest.approx(high))
