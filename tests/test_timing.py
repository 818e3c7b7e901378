"""Timing summaries: the story-bootstrap median against a slow replay of its documented
draws, the groups, and `cli.py timing`. The mart's leads on hand-made spans are dbt unit
test `onset_lead_and_lag_on_hand_made_spans` (tests/test_dbt_unit.py runs it)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from cli import app
from signaffect.read.timing import TimingSettings, clustered_median, groups, summarise_spans
from signaffect.stats.clustered_stats import generators

runner = CliRunner()


def test_clustered_median_replays_its_draws() -> None:
    rng = np.random.default_rng(5)
    story = np.repeat(np.array(["s0", "s1", "s2", "s3", "s4"]), [3, 7, 1, 4, 6])
    values = rng.integers(-10, 10, size=story.size).astype(float) * 33.0
    settings = TimingSettings(resamples=300, seed=11)
    median, q1, q3, low, high = clustered_median(values, story, settings)
    assert (median, q1, q3) == tuple(np.quantile(values, [0.5, 0.25, 0.75]))
    clusters = sorted(set(story))
    boot, _ = generators(settings.seed)
    draws = boot.integers(0, len(clusters), size=(settings.resamples, len(clusters)))
    medians = [
        np.median(np.concatenate([values[story == clusters[c]] for c in row])) for row in draws
    ]
    assert (low, high) == pytest.approx(tuple(np.quantile(medians, [0.025, 0.975])))


def test_one_story_has_no_interval() -> None:
    median, _, _, low, high = clustered_median(
        np.array([1.0, 2.0, 3.0]), np.array(["a", "a", "a"]), TimingSettings(resamples=10)
    )
    assert median == 2.0 and np.isnan(low) and np.isnan(high)


def spans(n: int) -> pa.Table:
    """n spans: the first half in wh questions and led by 100 ms, the rest outside grammar
    and 50 ms late; every third onset sign carries the label."""
    half = n // 2
    return pa.table(
        {
            "story": [f"s{i % 4}" for i in range(n)],
            "lead_ms": [100] * half + [-50] * (n - half),
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
    assert by_group["inside wh question"]["share_leading"] == 1.0
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
