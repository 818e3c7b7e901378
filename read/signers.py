"""Is an association the corpus's or one signer's? Each signer's share of the label beside
their share of all tokens, per-signer odds ratios, a heterogeneity test, and
leave-one-signer-out odds ratios.

NCSLGR's signers hold very unequal shares (one signs about two thirds of the tokens), so a
pooled effect can be one person's idiolect, and a signer holding most of a label's tokens
is expected when they hold most of all tokens: a share is shown, never used as a verdict.
For each headline feature of a label:

- per signer, the story-stratified MH odds ratio with its exact conditional (mid-p)
  interval over that signer's stories (the association mart's engine and support rule:
  at least `association_min_support` co-occurrences in `association_min_clusters`
  stories); a signer below it, or without the label or the feature, is "not estimable"
  with their counts, never a zero-cell-corrected guess;
- a Breslow-Day test (with Tarone's correction) of equal ORs across the signers whose
  table holds both the label and the feature's absence and presence (statsmodels
  `StratifiedTable`; tokens as independent, so it errs towards finding heterogeneity);
- leave-one-signer-out: the pooled MH OR and exact interval without each signer in turn.

A result is carried by one signer when its pooled interval excludes 1 and the exact interval
without that signer does not (on the same side), or no co-occurrence is left without them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from read.associations import comparison_caption, top_features
from read.grammar_context import mart_resamples
from read.sign_units import SignUnits, associate_units, load, only_features, two_by_two
from signaffect.core.choices import FACE
from signaffect.core.warehouse import connect_marts
from signaffect.stats.clustered_stats import Settings
from signaffect.stats.pooled_odds import pooled_odds_ratio

#: What a row says when the engine's support rule leaves it untested.
NOT_ESTIMABLE = "not estimable"


@dataclass(frozen=True)
class SignerAnalysis:
    """Every table of the analysis (see the module docstring)."""

    label: str
    #: signer_id, n_stories, n_tokens, n_label, share_of_label, share_of_tokens
    shares: pa.Table
    #: feature, signer_id, n_stories, n_label, n_both, odds_ratio, or_ci_low, or_ci_high,
    #: ci_method (or "not estimable: ...")
    per_signer: pa.Table
    #: feature, left_out, n_label, odds_ratio, or_ci_low, or_ci_high
    leave_one_out: pa.Table
    #: feature, odds_ratio, or_ci_low, or_ci_high (all signers), heterogeneity_p,
    #: n_signers_tested, carried_by, reason
    summary: pa.Table
    #: The sentence naming the comparison set the tokens come from, with both its counts.
    comparison: str = ""


def signer_analysis(
    db: Path, label: str, family: str = "signstream", k: int = 5, role: str = FACE
) -> SignerAnalysis:
    """The analysis of `label`'s top `k` features of `family` and `role` at sign grain (the
    association mart's ranking), with the mart's number of resamples."""
    features = top_features(db, label, grain="sign", family=family, k=k, role=role).table
    data = load(db, label, family, excluded_kinds=(), role=role)
    settings = Settings(resamples=mart_resamples(db))
    con = connect_marts(db)
    try:
        comparison = comparison_caption(con, "sign")
    finally:
        con.close()
    return replace(analyse(data, features["feature"].to_pylist(), settings), comparison=comparison)


def caption(analysis: SignerAnalysis) -> str:
    """What the tables hold and how their intervals were made."""
    return (
        f"{analysis.label}: its top {analysis.summary.num_rows} features (sign grain) signer "
        f"by signer. OR: Mantel-Haenszel odds ratio over the signer's stories of the feature "
        f"on the label's sign tokens against their other tokens; 95% CI: exact conditional "
        f"(mid-p). '{NOT_ESTIMABLE}': fewer co-occurrences or stories than the association "
        f"mart tests (counts shown). Heterogeneity: Breslow-Day test of equal ORs across "
        f"signers. Without: the pooled OR and exact CI with that signer left out. Carried by: "
        f"a signer whose removal makes the pooled CI include 1 (or leaves no co-occurrence); a "
        f"signer's share of the label is shown beside their share of all tokens, never used "
        f"as a verdict. {analysis.comparison}"
    ).rstrip()


def for_terminal(analysis: SignerAnalysis) -> list[tuple[str, pa.Table]]:
    """(title, table) pairs for a terminal: shares, the verdict per feature, the ORs."""

    def show(value: float | None, digits: int = 2) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    def interval(row: dict[str, Any], name: str = "or") -> str:
        """`name` is `or` (odds_ratio, or_ci_low, or_ci_high) or `or_without`."""
        odds = row["odds_ratio" if name == "or" else name]
        if odds is None:
            return NOT_ESTIMABLE
        return f"{show(odds)} [{show(row[f'{name}_ci_low'])}, {show(row[f'{name}_ci_high'])}]"

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
                    "OR without them [95% CI]": [interval(r, "or_without") for r in rows],
                }
            ),
        ),
    ]


def analyse(data: SignUnits, features: list[str], settings: Settings) -> SignerAnalysis:
    """The per-signer, heterogeneity and leave-one-out analysis of `features`, each OR
    tested under `settings`' support rule (the association mart's). Each pair's numbers
    are its own, so only `features` are run through the statistics."""
    data = only_features(data, [f for f in features if f in data.features])
    signers = sorted(set(data.units.column("signer_id").to_pylist()))
    shares = signer_shares(data)
    tables, per_signer = _per_signer(data, features, signers, shares, settings)
    pooled = _by_feature(associate_units(data, settings))
    # Without a signer the exact interval needs no support rule: it is wide when few
    # co-occurrences are left, and absent (the effect gone) when none are.
    everyone_else = replace(settings, min_support=1, min_clusters=1)
    leave_one_out = _leave_one_out(data, features, signers, tables, everyone_else)
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
    data: SignUnits, features: list[str], signers: list[str], shares: pa.Table, settings: Settings
) -> tuple[np.ndarray, pa.Table]:
    """Each feature's 2x2 table per signer (feature x 2 x 2 x signer) and the signers' ORs
    with exact intervals, or "not estimable" with the counts."""
    stories = dict(
        zip(shares["signer_id"].to_pylist(), shares["n_stories"].to_pylist(), strict=True)
    )
    rows = []
    tables = np.zeros((len(features), 2, 2, len(signers)))
    for k, signer in enumerate(signers):
        part = _only(data, signer, keep=True)
        tables[:, :, :, k] = two_by_two(part, features)
        tested = _by_feature(associate_units(part, settings))
        for i, feature in enumerate(features):
            rows.append(
                _signer_row(
                    feature, signer, stories[signer], tables[i, :, :, k], tested.get(feature)
                )
            )
    return tables, pa.Table.from_pylist(rows, schema=_PER_SIGNER_SCHEMA)


def _leave_one_out(
    data: SignUnits, features: list[str], signers: list[str], tables: np.ndarray, settings: Settings
) -> pa.Table:
    """The pooled OR and story-bootstrap CI of each feature without each signer in turn."""
    rows = []
    for k, signer in enumerate(signers):
        without = _by_feature(associate_units(_only(data, signer, keep=False), settings))
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
    heterogeneity = pooled_odds_ratio(tables)
    carried_by, reason = carrier(shares, overall, left_out)
    return {
        "feature": feature,
        **{name: overall.get(name) for name in _OR_NAMES},
        "heterogeneity_p": heterogeneity.breslow_day_p,
        "n_signers_tested": heterogeneity.n_informative,
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
    """The signer(s) a feature's result rests on, and why; ('', '') when none does: the
    pooled CI excludes 1 and, without them, the CI does not on the same side (or no
    co-occurrence is left). `shares` orders the signers."""
    side = _side(pooled)
    order = {row["signer_id"]: i for i, row in enumerate(shares.to_pylist())}
    reasons: dict[str, str] = {}
    for row in sorted(left_out, key=lambda r: order.get(r["left_out"], len(order))):
        if not side or _side(row) == side:
            continue
        reasons[str(row["left_out"])] = (
            "without them the feature never meets the label"
            if row["odds_ratio"] is None
            else f"without them OR {row['odds_ratio']:.2f} "
            f"[{row['or_ci_low']:.2f}, {row['or_ci_high']:.2f}]"
        )
    return ", ".join(reasons), "; ".join(f"{signer} {why}" for signer, why in reasons.items())


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
    feature: str, signer: str, n_stories: int, table: np.ndarray, tested: dict[str, Any] | None
) -> dict[str, Any]:
    n_label, n_both = int(table[0].sum()), int(table[0, 0])
    if tested is not None:
        odds, low, high = (tested[name] for name in _OR_NAMES)
        method = str(tested["or_ci_method"])
    else:
        odds = low = high = None
        method = (
            f"{NOT_ESTIMABLE}: {n_both} of {n_label} label tokens show the feature, "
            f"over the signer's {n_stories} stor{'y' if n_stories == 1 else 'ies'}"
        )
    return {
        "feature": feature,
        "signer_id": signer,
        "n_stories": n_stories,
        "n_label": n_label,
        "n_both": n_both,
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
