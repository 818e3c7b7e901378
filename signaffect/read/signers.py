"""Is an association the corpus's or one signer's? Per-signer odds ratios, each signer's
share of the label, a heterogeneity test, and leave-one-signer-out odds ratios.

NCSLGR's signers hold very unequal shares (one signs about two thirds of the frames), so a
pooled effect can be one person's idiolect. For each headline feature of a label:

- per signer, the OR with a 95% story-bootstrap CI when the signer has at least
  `MIN_BOOTSTRAP_STORIES` stories (the clustered statistics engine over that signer's
  tokens); with fewer stories a percentile bootstrap over 1-4 clusters means little, so the
  CI is Woolf's (log OR ± 1.96 SE, tokens as independent) on the same Haldane-corrected
  table (statsmodels `Table2x2`); `ci_method` says which;
- a Breslow-Day test (with Tarone's correction) of equal ORs across the signers whose
  table holds both the label and the feature's absence and presence (statsmodels
  `StratifiedTable`; tokens as independent, so it errs towards finding heterogeneity);
- leave-one-signer-out: the pooled OR and story-bootstrap CI without each signer in turn.

A result is flagged as carried by one signer when that signer holds more than half of the
label's tokens, or when the pooled CI excludes 1 and the CI without that signer does not
(or the OR without them falls on the other side of 1).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from statsmodels.stats.contingency_tables import Table2x2

from signaffect.read.associations import FACE, top_features
from signaffect.read.grammar_context import EVERY_PAIR, mantel_haenszel, mart_resamples
from signaffect.read.sign_units import SignUnits, associate_units, load, two_by_two
from signaffect.stats.clustered_stats import HALDANE, Settings

#: Least stories a signer needs for a story-bootstrap CI; below it, Woolf's CI.
MIN_BOOTSTRAP_STORIES = 5
#: A signer holding more than this share of the label's tokens carries the result.
DOMINANT_SHARE = 0.5


@dataclass(frozen=True)
class SignerAnalysis:
    """Every table of the analysis (see the module docstring)."""

    label: str
    #: signer_id, n_stories, n_tokens, n_label, share_of_label, share_of_tokens
    shares: pa.Table
    #: feature, signer_id, n_stories, n_label, n_both, odds_ratio, or_ci_low, or_ci_high,
    #: ci_method
    per_signer: pa.Table
    #: feature, left_out, n_label, odds_ratio, or_ci_low, or_ci_high
    leave_one_out: pa.Table
    #: feature, odds_ratio, or_ci_low, or_ci_high (all signers), heterogeneity_p,
    #: n_signers_tested, carried_by, reason
    summary: pa.Table


def signer_analysis(
    db: Path, label: str, family: str = "signstream", k: int = 5, role: str = FACE
) -> SignerAnalysis:
    """The analysis of `label`'s top `k` features of `family` and `role` at sign grain (the
    association mart's ranking), with the mart's number of resamples."""
    features = top_features(db, label, grain="sign", family=family, k=k, role=role).table
    data = load(db, label, family, excluded_kinds=(), role=role)
    settings = Settings(resamples=mart_resamples(db))
    return analyse(data, features["feature"].to_pylist(), settings)


def caption(analysis: SignerAnalysis) -> str:
    """What the tables hold and how their intervals were made."""
    return (
        f"{analysis.label}: its top {analysis.summary.num_rows} features (sign grain) signer "
        f"by signer. OR: Haldane-corrected odds ratio of the feature on the label's sign "
        f"tokens against the signer's other tokens; 95% CI by a bootstrap over the signer's "
        f"stories when they have at least {MIN_BOOTSTRAP_STORIES}, else Woolf's (tokens as "
        f"independent). Heterogeneity: Breslow-Day test of equal ORs across signers. Without: "
        f"the pooled OR and story-bootstrap CI with that signer left out. Carried by: a signer "
        f"holding more than {DOMINANT_SHARE:.0%} of the label's tokens, or whose removal "
        f"makes the pooled CI include 1."
    )


def for_terminal(analysis: SignerAnalysis) -> list[tuple[str, pa.Table]]:
    """(title, table) pairs for a terminal: shares, the verdict per feature, the ORs."""

    def show(value: float | None, digits: int = 2) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    def interval(row: dict[str, Any], prefix: str = "") -> str:
        odds, low, high = (row[f"{prefix}{n}"] for n in ("odds_ratio", "or_ci_low", "or_ci_high"))
        return f"{show(odds)} [{show(low)}, {show(high)}]"

    shares = analysis.shares.to_pylist()
    summary = analysis.summary.to_pylist()
    rows = flat(analysis).to_pylist()
    return [
        (
            "signers' shares of the label's sign tokens",
            pa.table(
                {
                    "signer": [r["signer_id"] for r in shares],
                    "stories": [r["n_stories"] for r in shares],
                    "label tokens": [r["n_label"] for r in shares],
                    "share of label": [show(r["share_of_label"], 3) for r in shares],
                    "share of all tokens": [show(r["share_of_tokens"], 3) for r in shares],
                }
            ),
        ),
        (
            "pooled OR, heterogeneity across signers, and who carries it",
            pa.table(
                {
                    "feature": [r["feature"] for r in summary],
                    "OR [95% CI]": [interval(r) for r in summary],
                    "Breslow-Day p": [show(r["heterogeneity_p"], 3) for r in summary],
                    "signers tested": [r["n_signers_tested"] for r in summary],
                    "carried by": [r["reason"] for r in summary],
                }
            ),
        ),
        (
            "per signer",
            pa.table(
                {
                    "feature": [r["feature"] for r in rows],
                    "signer": [r["signer_id"] for r in rows],
                    "both / label": [f"{r['n_both']} / {r['n_label']}" for r in rows],
                    "OR [95% CI]": [interval(r) for r in rows],
                    "CI": [r["ci_method"] for r in rows],
                    "OR without them [95% CI]": [
                        f"{show(r['or_without'])} [{show(r['or_without_ci_low'])}, "
                        f"{show(r['or_without_ci_high'])}]"
                        for r in rows
                    ],
                }
            ),
        ),
    ]


def analyse(data: SignUnits, features: list[str], settings: Settings) -> SignerAnalysis:
    """The per-signer, heterogeneity and leave-one-out analysis of `features`."""
    every = Settings(
        resamples=settings.resamples,
        seed=settings.seed,
        confidence=settings.confidence,
        **EVERY_PAIR,
    )
    signers = sorted(set(data.units.column("signer_id").to_pylist()))
    shares = signer_shares(data)
    tables, per_signer = _per_signer(data, features, signers, shares, every)
    pooled = _by_feature(associate_units(data, every))
    leave_one_out = _leave_one_out(data, features, signers, tables, every)
    summary_rows = [
        _summary_row(
            feature,
            tables[i],
            pooled.get(feature, {}),
            shares,
            leave_one_out.filter(pc.equal(leave_one_out["feature"], feature)).to_pylist(),
        )
        for i, feature in enumerate(features)
    ]
    return SignerAnalysis(
        label=data.label,
        shares=shares,
        per_signer=per_signer,
        leave_one_out=leave_one_out,
        summary=pa.Table.from_pylist(summary_rows, schema=_SUMMARY_SCHEMA),
    )


def _per_signer(
    data: SignUnits, features: list[str], signers: list[str], shares: pa.Table, every: Settings
) -> tuple[np.ndarray, pa.Table]:
    """Each feature's 2x2 table per signer (feature x 2 x 2 x signer) and the signers' ORs:
    story bootstrap with enough stories, else Woolf's."""
    stories = dict(
        zip(shares["signer_id"].to_pylist(), shares["n_stories"].to_pylist(), strict=True)
    )
    rows = []
    tables = np.zeros((len(features), 2, 2, len(signers)))
    for k, signer in enumerate(signers):
        part = _only(data, signer, keep=True)
        tables[:, :, :, k] = two_by_two(part, features)
        boot = (
            _by_feature(associate_units(part, every))
            if stories[signer] >= (MIN_BOOTSTRAP_STORIES)
            else {}
        )
        for i, feature in enumerate(features):
            rows.append(
                _signer_row(feature, signer, stories[signer], tables[i, :, :, k], boot.get(feature))
            )
    return tables, pa.Table.from_pylist(rows, schema=_PER_SIGNER_SCHEMA)


def _leave_one_out(
    data: SignUnits, features: list[str], signers: list[str], tables: np.ndarray, every: Settings
) -> pa.Table:
    """The pooled OR and story-bootstrap CI of each feature without each signer in turn."""
    rows = []
    for k, signer in enumerate(signers):
        without = _by_feature(associate_units(_only(data, signer, keep=False), every))
        for i, feature in enumerate(features):
            row = without.get(feature, {})
            rows.append(
                {
                    "feature": feature,
                    "left_out": signer,
                    "n_label": int(np.delete(tables[i], k, axis=2)[0].sum()),
                    **{name: row.get(name) for name in _OR_NAMES},
                }
            )
    return pa.Table.from_pylist(rows, schema=_LOSO_SCHEMA)


def _summary_row(
    feature: str,
    tables: np.ndarray,
    overall: dict[str, Any],
    shares: pa.Table,
    left_out: list[dict[str, Any]],
) -> dict[str, Any]:
    """One feature's pooled OR, Breslow-Day p over its signers' 2x2 `tables` (2 x 2 x
    signer), how many signers that test could use, and who carries the result."""
    informative = sum(
        1
        for k in range(tables.shape[2])
        if tables[0, :, k].sum()
        and tables[1, :, k].sum()
        and tables[:, 0, k].sum()
        and tables[:, 1, k].sum()
    )
    carried_by, reason = carrier(shares, overall, left_out)
    return {
        "feature": feature,
        **{name: overall.get(name) for name in _OR_NAMES},
        "heterogeneity_p": mantel_haenszel(tables)[3],
        "n_signers_tested": informative,
        "carried_by": carried_by,
        "reason": reason,
    }


def signer_shares(data: SignUnits) -> pa.Table:
    """Per signer: stories, sign tokens, tokens with the label and the signer's share of
    the label's tokens (the shares add to 1) and of all tokens."""
    signer = data.units["signer_id"].to_pylist()
    labelled = [bool(labels) for labels in data.units["labels"].to_pylist()]
    stories: dict[str, set[str]] = {}
    for name, story in zip(signer, data.units["story"].to_pylist(), strict=True):
        stories.setdefault(name, set()).add(story)
    n_tokens = Counter(signer)
    n_label = Counter(name for name, has in zip(signer, labelled, strict=True) if has)
    total_label = sum(n_label.values())
    rows = [
        {
            "signer_id": name,
            "n_stories": len(stories[name]),
            "n_tokens": n_tokens[name],
            "n_label": n_label[name],
            "share_of_label": n_label[name] / total_label if total_label else None,
            "share_of_tokens": n_tokens[name] / len(signer),
        }
        for name in sorted(n_tokens, key=lambda n: (-n_label[n], -n_tokens[n], n))
    ]
    return pa.Table.from_pylist(rows, schema=_SHARES_SCHEMA)


def carrier(
    shares: pa.Table, pooled: dict[str, Any], left_out: list[dict[str, Any]]
) -> tuple[str, str]:
    """The signer(s) a feature's result rests on, and why; ('', '') when none does."""
    reasons: dict[str, list[str]] = {}
    for row in shares.to_pylist():
        if row["share_of_label"] is not None and row["share_of_label"] > DOMINANT_SHARE:
            reasons.setdefault(row["signer_id"], []).append(
                f"holds {row['share_of_label']:.0%} of the label's tokens"
            )
    side = _side(pooled)
    for row in left_out:
        if side and row["odds_ratio"] is not None and _side(row) != side:
            reasons.setdefault(str(row["left_out"]), []).append(
                f"without them OR {row['odds_ratio']:.2f} "
                f"[{row['or_ci_low']:.2f}, {row['or_ci_high']:.2f}]"
            )
    return ", ".join(reasons), "; ".join(
        f"{signer} {'; '.join(why)}" for signer, why in reasons.items()
    )


def _side(row: dict[str, Any]) -> int:
    """+1 when the CI lies above 1, -1 below, 0 when it includes 1 or is missing."""
    low, high = row.get("or_ci_low"), row.get("or_ci_high")
    if low is None or high is None:
        return 0
    if low > 1:
        return 1
    return -1 if high < 1 else 0


def _only(data: SignUnits, signer: str, keep: bool) -> SignUnits:
    match = pc.equal(data.units["signer_id"], signer)
    return data.subset(match if keep else pc.invert(match))


def _by_feature(statistics: pa.Table) -> dict[str, dict[str, Any]]:
    return {row["feature"]: row for row in statistics.to_pylist()}


def _signer_row(
    feature: str, signer: str, n_stories: int, table: np.ndarray, boot: dict[str, Any] | None
) -> dict[str, Any]:
    if boot is not None:
        odds, low, high, method = (
            boot["odds_ratio"],
            boot["or_ci_low"],
            boot["or_ci_high"],
            "story bootstrap",
        )
    elif table[0].sum() and table[1].sum():
        woolf = Table2x2(table + HALDANE)
        odds = float(woolf.oddsratio)
        low, high = (float(x) for x in woolf.oddsratio_confint())
        method = "Woolf"
    else:
        odds = low = high = None
        method = "no tokens with and without the label"
    return {
        "feature": feature,
        "signer_id": signer,
        "n_stories": n_stories,
        "n_label": int(table[0].sum()),
        "n_both": int(table[0, 0]),
        "odds_ratio": odds,
        "or_ci_low": low,
        "or_ci_high": high,
        "ci_method": method,
    }


def _typed(dtype: pa.DataType, *names: str) -> list[tuple[str, pa.DataType]]:
    return [(name, dtype) for name in names]


#: The odds ratio and its 95% CI, as the per-signer, leave-one-out and summary tables hold it.
_OR_NAMES = ("odds_ratio", "or_ci_low", "or_ci_high")
_SHARES_SCHEMA = pa.schema(
    [
        ("signer_id", pa.string()),
        *_typed(pa.int64(), "n_stories", "n_tokens", "n_label"),
        *_typed(pa.float64(), "share_of_label", "share_of_tokens"),
    ]
)
_PER_SIGNER_SCHEMA = pa.schema(
    [
        *_typed(pa.string(), "feature", "signer_id"),
        *_typed(pa.int64(), "n_stories", "n_label", "n_both"),
        *_typed(pa.float64(), *_OR_NAMES),
        ("ci_method", pa.string()),
    ]
)
_LOSO_SCHEMA = pa.schema(
    [
        *_typed(pa.string(), "feature", "left_out"),
        ("n_label", pa.int64()),
        *_typed(pa.float64(), *_OR_NAMES),
    ]
)
_SUMMARY_SCHEMA = pa.schema(
    [
        ("feature", pa.string()),
        *_typed(pa.float64(), *_OR_NAMES, "heterogeneity_p"),
        ("n_signers_tested", pa.int64()),
        *_typed(pa.string(), "carried_by", "reason"),
    ]
)


def flat(analysis: SignerAnalysis) -> pa.Table:
    """One row per feature x signer: the signer's share of the label, their OR and CI, the
    pooled OR without them, and whether the feature's result rests on them."""
    shares = {row["signer_id"]: row for row in analysis.shares.to_pylist()}
    left_out = {(r["feature"], r["left_out"]): r for r in analysis.leave_one_out.to_pylist()}
    carried = {r["feature"]: r["carried_by"].split(", ") for r in analysis.summary.to_pylist()}
    rows = []
    for row in analysis.per_signer.to_pylist():
        without = left_out[(row["feature"], row["signer_id"])]
        rows.append(
            {
                **row,
                "share_of_label": shares[row["signer_id"]]["share_of_label"],
                "or_without": without["odds_ratio"],
                "or_without_ci_low": without["or_ci_low"],
                "or_without_ci_high": without["or_ci_high"],
                "carries_result": row["signer_id"] in carried[row["feature"]],
            }
        )
    return pa.Table.from_pylist(rows)
