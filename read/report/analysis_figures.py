"""The figures of the grammar, signer and timing sections: one panel per label each.

Odds ratios are drawn on a log axis with a line at 1 (no association), so a halving and a
doubling look the same size; every interval is the one the table beneath gives.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from read.report.analyses import Analyses, LabelAnalyses
from read.report.figures import Chart, _png, shorten

INSIDE_COLOUR = "#228833"
OUTSIDE_COLOUR = "#4477aa"
LABEL_COLOUR = "#aa3377"
BASE_COLOUR = "#bbbbbb"


def draw_analyses(analyses: Analyses | None) -> list[Chart]:
    """The three figures, when there is a label to show them for."""
    if analyses is None or not analyses.per_label:
        return []
    per_label = analyses.per_label
    labels = ", ".join(a.label for a in per_label)
    return [
        Chart(
            key="grammar",
            title="Odds ratio inside vs outside grammatical markers",
            alt="Forest plot, one panel per label: for each top facial or head feature, the "
            "odds ratio with its 95% interval on sign tokens inside grammatical markers "
            f"(green) and outside them (blue), on a log axis with a line at 1; labels {labels}.",
            png=grammar_forest(per_label),
        ),
        Chart(
            key="signers",
            title="Each signer's share of the label's sign tokens",
            alt="Horizontal bar chart, one panel per label: each signer's share of the "
            "label's sign tokens (magenta) beside their share of all sign tokens (grey); "
            f"labels {labels}.",
            png=signer_shares(per_label),
        ),
        Chart(
            key="timing",
            title="Onset lead of the face over the sign",
            alt="Box plots, one panel per label: for each top facial or head feature, the "
            "onset lead in ms (sign start minus span start; positive means the face starts "
            "first) of spans whose onset sign carries the label (magenta) and of the others "
            f"(grey); labels {labels}.",
            png=timing_boxes(per_label),
        ),
    ]


def _panels(n: int, rows_per_panel: int) -> tuple[Figure, list[Axes]]:
    height = max(2.4, 0.42 * rows_per_panel + 1.4)
    fig = Figure(figsize=(9.0, height * n), layout="constrained")
    return fig, [fig.add_subplot(n, 1, i + 1) for i in range(n)]


def _finish_rows(ax: Axes, names: list[str], label: str, xlabel: str) -> None:
    """A panel of one row per name, first on top, titled with its label, with a legend."""
    ax.set_yticks(np.arange(len(names)), names, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(label, fontsize=11, loc="left")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def grammar_forest(per_label: list[LabelAnalyses]) -> bytes:
    fig, axes = _panels(len(per_label), max(a.grammar.num_rows for a in per_label))
    for ax, analysis in zip(axes, per_label, strict=True):
        rows = analysis.grammar.to_pylist()
        for offset, key, colour, name in (
            (-0.17, "inside", INSIDE_COLOUR, "inside grammar"),
            (0.17, "outside", OUTSIDE_COLOUR, "outside grammar"),
        ):
            shown = [
                (i, r[f"odds_ratio_{key}"], r[f"or_ci_low_{key}"], r[f"or_ci_high_{key}"])
                for i, r in enumerate(rows)
                if r[f"odds_ratio_{key}"] is not None
            ]
            if not shown:
                continue
            at, odds, low, high = (np.array(v, dtype=np.float64) for v in zip(*shown, strict=True))
            ax.errorbar(
                odds,
                at + offset,
                xerr=[odds - low, high - odds],
                fmt="o",
                color=colour,
                capsize=3,
                label=name,
            )
        ax.axvline(1.0, color="#555555", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        _finish_rows(
            ax,
            [shorten(r["feature"]) for r in rows],
            analysis.label,
            "odds ratio (log scale), 95% story-bootstrap interval",
        )
    return _png(fig)


def signer_shares(per_label: list[LabelAnalyses]) -> bytes:
    fig, axes = _panels(len(per_label), max(a.signers.shares.num_rows for a in per_label))
    for ax, analysis in zip(axes, per_label, strict=True):
        rows = analysis.signers.shares.to_pylist()
        y = np.arange(len(rows))
        label_share = [r["share_of_label"] or 0.0 for r in rows]
        token_share = [r["share_of_tokens"] for r in rows]
        bars = ax.barh(
            y - 0.2,
            label_share,
            height=0.38,
            color=LABEL_COLOUR,
            label="share of the label's tokens",
        )
        ax.barh(
            y + 0.2, token_share, height=0.38, color=BASE_COLOUR, label="share of all sign tokens"
        )
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in label_share], padding=3, fontsize=8)
        ax.axvline(0.5, color="#555555", linewidth=0.8, linestyle="--")
        ax.set_xlim(0, 1.05)
        names = [r["signer_id"] for r in rows]
        _finish_rows(ax, names, analysis.label, "share of sign tokens (dashed: half)")
    return _png(fig)


def timing_boxes(per_label: list[LabelAnalyses]) -> bytes:
    fig, axes = _panels(len(per_label), max(2 * max(len(a.leads), 1) for a in per_label))
    for ax, analysis in zip(axes, per_label, strict=True):
        features = list(analysis.leads)
        data, positions, colours = [], [], []
        for i, feature in enumerate(features):
            with_label, without = analysis.leads[feature]
            for offset, values, colour in (
                (-0.2, with_label, LABEL_COLOUR),
                (0.2, without, BASE_COLOUR),
            ):
                if values.size:
                    data.append(values)
                    positions.append(i + offset)
                    colours.append(colour)
        if data:
            boxes = ax.boxplot(
                data,
                positions=positions,
                orientation="horizontal",
                widths=0.34,
                patch_artist=True,
                showfliers=False,
                manage_ticks=False,
            )
            for patch, colour in zip(boxes["boxes"], colours, strict=True):
                patch.set_facecolor(colour)
        ax.axvline(0.0, color="#555555", linewidth=0.8, linestyle="--")
        ax.set_yticks(np.arange(len(features)), [shorten(f) for f in features], fontsize=9)
        ax.set_ylim(len(features) - 0.5, -0.5)
        ax.set_xlabel("onset lead, ms (sign start - span start; > 0: the face starts first)")
        ax.set_title(
            f"{analysis.label}: magenta = onset sign carries the label, grey = it does not",
            fontsize=10,
            loc="left",
        )
        ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
