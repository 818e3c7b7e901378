"""The signer analysis on a constructed corpus where one signer carries the association,
and `cli.py signers` on the sample corpus.

Signer A (5 stories) puts feature F on every labelled sign and on 1 in 9 of the others;
signers B (2 stories) and C (1 story) show F on half of their signs, labelled or not.
Feature G is unrelated to the label everywhere. A holds 10 of the 24 labelled signs (less
than half), so only leaving A out can show that A carries F's association.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from statsmodels.stats.contingency_tables import StratifiedTable
from typer.testing import CliRunner

from cli import app
from read.sign_units import SignUnits
from read.signers import analyse, carrier, signer_shares
from signaffect.stats.clustered_stats import Settings

runner = CliRunner()
LABEL = "x:label"

#: signer -> stories, and per story (labelled with F, labelled without F, other with F,
#: other without F).
DESIGN = {
    "A": (5, (2, 0, 2, 16)),
    "B": (2, (2, 2, 8, 8)),
    "C": (1, (3, 3, 7, 7)),
}


def constructed() -> SignUnits:
    rows = []
    for signer, (n_stories, cells) in DESIGN.items():
        for s in range(n_stories):
            story = f"{signer}{s}"
            kinds = [(True, True), (True, False), (False, True), (False, False)]
            for (labelled, with_f), count in zip(kinds, cells, strict=True):
                for _ in range(count):
                    i = len(rows)
                    features = (["F"] if with_f else []) + (["G"] if i % 3 == 0 else [])
                    rows.append(
                        {
                            "grain": "sign",
                            "unit_key": f"t{i:04d}",
                            "source_file": f"{story}.xml",
                            "cluster_key": story,
                            "block_key": f"t{i:04d}",
                            "labels": [LABEL] if labelled else [],
                            "features": features,
                            "story": story,
                            "signer_id": signer,
                            "is_inside_grammar": False,
                        }
                    )
    units = pa.Table.from_pylist(rows)
    files = sorted(set(units["source_file"].to_pylist()))
    coverage = pa.table(
        {
            "source_file": [f for f in files for _ in "FG"],
            "feature": [g for _ in files for g in "FG"],
        }
    )
    return SignUnits(LABEL, {"F": "facial", "G": "head"}, units, coverage)


@pytest.fixture(scope="module")
def analysis():
    return analyse(constructed(), ["F", "G"], Settings(resamples=400, seed=3))


def test_shares_add_to_one() -> None:
    shares = {r["signer_id"]: r for r in signer_shares(constructed()).to_pylist()}
    assert {s: r["n_label"] for s, r in shares.items()} == {"A": 10, "B": 8, "C": 6}
    assert shares["A"]["share_of_label"] == pytest.approx(10 / 24)
    assert sum(r["share_of_label"] for r in shares.values()) == pytest.approx(1.0)
    assert sum(r["share_of_tokens"] for r in shares.values()) == pytest.approx(1.0)
    assert {s: r["n_stories"] for s, r in shares.items()} == {"A": 5, "B": 2, "C": 1}


def test_leaving_out_the_carrier_removes_the_effect(analysis) -> None:
    summary = {r["feature"]: r for r in analysis.summary.to_pylist()}
    assert summary["F"]["or_ci_low"] > 1
    assert summary["F"]["carried_by"] == "A"
    assert summary["F"]["reason"].startswith("A without them OR 1.00")
    assert summary["G"]["carried_by"] == ""
    loso = {(r["feature"], r["left_out"]): r for r in analysis.leave_one_out.to_pylist()}
    assert loso[("F", "A")]["odds_ratio"] == pytest.approx(1.0)
    assert loso[("F", "A")]["or_ci_low"] <= 1 <= loso[("F", "A")]["or_ci_high"]
    for other in ("B", "C"):
        assert loso[("F", other)]["or_ci_low"] > 1
    assert loso[("F", "A")]["n_label"] == 14


def test_per_signer_intervals_and_heterogeneity(analysis) -> None:
    """A (10 co-occurrences in 5 stories) gets an exact interval; B (4 in 2 stories) and C
    (3 in 1 story) are below the mart's support rule: not estimable, with their counts."""
    rows = {(r["feature"], r["signer_id"]): r for r in analysis.per_signer.to_pylist()}
    assert rows[("F", "A")]["ci_method"] == "exact conditional (mid-p)"
    assert rows[("F", "A")]["or_ci_low"] > 1
    for signer, counts in (("B", "4 of 8"), ("C", "3 of 6")):
        row = rows[("F", signer)]
        assert row["odds_ratio"] is None and row["or_ci_low"] is None
        assert row["ci_method"].startswith(f"not estimable: {counts} label tokens show")
    tables = np.array([[[10, 0], [10, 80]], [[4, 4], [16, 16]], [[3, 3], [7, 7]]], dtype=float)
    expected = StratifiedTable(tables.transpose(1, 2, 0)).test_equal_odds().pvalue
    summary = {r["feature"]: r for r in analysis.summary.to_pylist()}
    assert summary["F"]["heterogeneity_p"] == pytest.approx(expected)
    assert summary["F"]["heterogeneity_p"] < 0.05
    assert summary["F"]["n_signers_tested"] == 3


def test_a_dominant_share_alone_does_not_carry() -> None:
    """B holds most of the label's tokens once A's are dropped, yet leaving B out keeps the
    effect: no share rule makes B the carrier."""
    data = constructed()
    shares = signer_shares(data)
    pooled = {"odds_ratio": 3.0, "or_ci_low": 1.5, "or_ci_high": 6.0}
    kept = [{"left_out": "B", "odds_ratio": 2.5, "or_ci_low": 1.2, "or_ci_high": 5.0}]
    assert carrier(shares, pooled, kept) == ("", "")
    lost = [{"left_out": "C", "odds_ratio": None, "or_ci_low": None, "or_ci_high": None}]
    assert carrier(shares, pooled, lost) == (
        "C",
        "C without them the feature never meets the label",
    )


def test_cli_signers(sample_db: Path) -> None:
    result = runner.invoke(
        app, ["--db", str(sample_db), "signers", "empath:negative_emotion", "--k", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "share of label" in result.stdout and "avery-quinn" in result.stdout
    as_csv = runner.invoke(
        app,
        [
            "--db",
            str(sample_db),
            "signers",
            "empath:negative_emotion",
            "--k",
            "2",
            "--format",
            "csv",
        ],
    )
    assert as_csv.exit_code == 0, as_csv.output
    header, *rows = as_csv.stdout.splitlines()
    assert "share_of_label" in header and "carries_result" in header
    assert len(rows) == 2 * 3  # two features x three signers
