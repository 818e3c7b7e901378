"""The report's figures as PNG bytes, drawn on matplotlib's Agg canvas.

`matplotlib.figure.Figure` is used directly (no pyplot): no global figure state, no GUI
backend, nothing to close. Each figure's height follows its number of rows so labels never
overlap, and long feature names are shortened with an ellipsis (the tables keep them whole).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

from read.report.data import ASSOCIATION_GRAIN, ReportData
from read.report.measured import MeasuredVsCoded

DPI = 110
MEASURED_KEY = "measured-vs-coded"
MAX_LABEL_CHARS = 46
#: One colour per feature kind, so a mixed chart says which bar is which kind.
KIND_COLOURS = {
    "facial": "#4477aa",
    "head": "#ee6677",
    "grammatical": "#228833",
    "body": "#ccbb44",
    "pos": "#66ccee",
    "au": "#aa3377",
    "lexical": "#bbbbbb",
    "gloss": "#999933",
    "fer": "#882255",
}


@dataclass(frozen=True)
class Chart:
    """A rendered figure: `key` names its file (`<key>.png`), `alt` describes it."""

    key: str
    title: str
    alt: str
    png: bytes


def shorten(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _points(text: str, size: float) -> tuple[float, float]:
    """Width and height (with descent) of one line of `text` at `size` pt, in points."""
    width, height, descent = text_to_path.get_text_width_height_descent(
        text, FontProperties(size=size), ismath=False
    )
    return width, height + descent


def rows_layout(fig: Figure, names: Sequence[str], title: str, xlabel: str) -> None:
    """Margins of a one-panel chart of rows (names at 9 pt on the left, title at 11 pt on
    top, tick labels and `xlabel` at 10 pt below) from the widths of its own texts: one
    drawing pass, where a layout engine would measure every artist again first."""
    pad, tick = 4.0, 7.0  # points: the figure's edge; a tick's length and its label's pad
    width, height = (72.0 * x for x in fig.get_size_inches())
    # Hinted glyphs at the PNG's DPI run a few per cent wider than their outlines.
    left = pad + 1.06 * max((_points(n, 9)[0] for n in names), default=0.0) + tick
    bottom = pad + _points("0", 10)[1] + tick + 4.0 + _points(xlabel, 10)[1]
    top = pad + _points(title, 11)[1] + 6.0
    right = pad + 0.5 * _points("00000", 10)[0]
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
    )


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def bar_chart(
    names: Sequence[str],
    values: Sequence[float],
    kinds: Sequence[str] | None,
    title: str,
    xlabel: str,
    integer: bool = True,
) -> bytes:
    """Horizontal bars, largest at the top, each labelled with its value."""
    n = len(names)
    fig = Figure(figsize=(9.0, max(2.2, 0.27 * n + 1.3)))
    ax = fig.add_subplot()
    y = np.arange(n)
    colours = [KIND_COLOURS.get(k, "#777777") for k in kinds] if kinds else "#4477aa"
    bars = ax.barh(y, values, color=colours, height=0.72)
    shown = [shorten(name) for name in names]
    ax.set_yticks(y, shown, fontsize=9)
    rows_layout(fig, shown, title, xlabel)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=11, loc="left")
    labels = [f"{v:,.0f}" if integer else f"{v:.3f}" for v in values]
    ax.bar_label(bars, labels=labels, padding=3, fontsize=8)
    ax.set_xlim(0, (max(values) if n else 1) * 1.14)
    ax.margins(y=0.01)
    ax.spines[["top", "right"]].set_visible(False)
    if kinds and len(set(kinds)) > 1:
        from matplotlib.patches import Patch

        present = list(dict.fromkeys(kinds))
        ax.legend(
            handles=[Patch(color=KIND_COLOURS.get(k, "#777777"), label=k) for k in present],
            title="kind",
            loc="lower right",
            fontsize=8,
            title_fontsize=8,
            frameon=False,
        )
    return _png(fig)


def heatmap(cells: pa.Table, grain: str) -> bytes:
    """Lift: features down (with their base rate P(feature)), labels across, on a diverging
    colour map centred on lift 1 (log2 scale, so 2 and 1/2 are equally strong); untested
    cells are left blank."""
    rows = list(dict.fromkeys(cells.column("feature").to_pylist()))
    cols = list(dict.fromkeys(cells.column("label").to_pylist()))
    grid = np.full((len(rows), len(cols)), np.nan)
    base = dict.fromkeys(rows, np.nan)
    for cell in cells.to_pylist():
        if cell["lift"] is not None:
            grid[rows.index(cell["feature"]), cols.index(cell["label"])] = cell["lift"]
        if cell["p_feature"] is not None:
            base[cell["feature"]] = cell["p_feature"]
    names = [f"{shorten(r)}  (P={base[r]:.2f})" for r in rows]
    longest = max(len(n) for n in names)
    width = 1.5 + 0.075 * longest + 0.62 * len(cols) + 1.2
    height = 2.2 + 0.36 * len(rows) + 0.07 * max(len(c) for c in cols)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    with np.errstate(divide="ignore"):
        log_lift = np.log2(np.where(grid > 0, grid, np.nan))
    finite = log_lift[np.isfinite(log_lift)]
    bound = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    image = ax.imshow(
        np.ma.masked_invalid(log_lift), cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto"
    )
    ax.set_xticks(
        np.arange(len(cols)), cols, rotation=40, ha="right", rotation_mode="anchor", fontsize=8.5
    )
    ax.set_yticks(np.arange(len(rows)), names, fontsize=8.5)
    for i in range(len(rows)):
        for j in range(len(cols)):
            if np.isnan(grid[i, j]):
                continue
            strong = np.isfinite(log_lift[i, j]) and abs(log_lift[i, j]) > 0.6 * bound
            ax.text(
                j,
                i,
                f"{grid[i, j]:.1f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if strong else "#222222",
            )
    ax.set_xlabel("lexical label")
    ax.set_ylabel("facial / head feature (base rate)")
    ax.set_title(
        f"Lift of each feature with each label at {grain} grain (1 = no association)",
        fontsize=11,
        loc="left",
    )
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    ticks = [float(t) for t in np.arange(-np.floor(bound), np.floor(bound) + 1)]
    bar.set_ticks(ticks, labels=[f"{2.0**t:g}" for t in ticks])
    bar.set_label("lift (log scale, centred on 1)")
    return _png(fig)


def draw(data: ReportData) -> list[Chart]:
    """Every figure the report has data for, in report order."""
    charts: list[Chart] = []
    for chart in data.counts:
        table = chart.table
        if table.num_rows == 0:
            continue
        names = table.column("feature").to_pylist()
        kinds = table.column("feature_kind").to_pylist()
        title = f"{chart.title}: top {table.num_rows} by frames"
        charts.append(
            Chart(
                key=chart.key,
                title=title,
                alt=f"Horizontal bar chart of frame counts, {chart.title.lower()}; "
                f"most frequent: {names[0]}.",
                png=bar_chart(
                    names,
                    table.column("n_frames").to_pylist(),
                    kinds if len(chart.kinds) > 1 else None,
                    title,
                    "frames in which the feature is active",
                ),
            )
        )
    if data.heatmap is not None and data.heatmap.num_rows:
        charts.append(
            Chart(
                key="heatmap",
                title="Lift of the most frequent facial and head features with each label",
                alt="Heatmap of the lift of each facial or head feature with each lexical "
                "label, on a diverging colour map centred on 1.",
                png=heatmap(data.heatmap, ASSOCIATION_GRAIN),
            )
        )
    charts.extend(training_charts(data))
    measured = measured_figure(data.measured)
    if measured is not None:
        charts.append(measured)
    return charts


def measured_figure(data: MeasuredVsCoded | None) -> Chart | None:
    """The measure over the utterance's frames, coded frames shaded, threshold dashed."""
    if data is None or data.frames is None or not data.frames.num_rows or data.utterance is None:
        return None
    frame = np.asarray(data.frames["frame_index"].to_numpy(), dtype=float)
    value = np.asarray(data.frames["value"].to_numpy(), dtype=float)
    coded = np.asarray(data.frames["coded"].to_numpy(zero_copy_only=False), dtype=bool)
    fig = Figure(figsize=(8, 3.2), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    low, high = float(np.nanmin(value)), float(np.nanmax(value))
    ax.fill_between(frame, low, high, where=coded, step="mid", color="#ccbb44", alpha=0.4,
                    label=f"coded {data.code}")  # fmt: skip
    ax.plot(frame, value, color="#4477aa", linewidth=1.2, label=data.measure)
    if data.threshold is not None:
        ax.axhline(data.direction * data.threshold, color="#ee6677", linestyle="--",
                   label="threshold (chosen on the other signers)")  # fmt: skip
    file, utterance = data.utterance
    ax.set_title(f"{file}, utterance {utterance}: {data.measure} against {data.code}")
    ax.set_xlabel("frame of the utterance (30 fps)")
    ax.set_ylabel(data.measure)
    ax.legend(loc="upper right", fontsize="small")
    return Chart(
        key=MEASURED_KEY,
        title="Measured vs coded",
        alt=f"Line chart of {data.measure} over the frames of utterance {utterance} of "
        f"{file}, with the frames coded {data.code} shaded.",
        png=_png(fig),
    )


def signed_bars(names: Sequence[str], values: Sequence[float], title: str, xlabel: str) -> bytes:
    """Horizontal bars that may be negative (a permutation can raise the score), largest on
    top, with a zero line."""
    n = len(names)
    fig = Figure(figsize=(9.0, max(2.2, 0.27 * n + 1.3)))
    ax = fig.add_subplot()
    y = np.arange(n)
    colours = ["#4477aa" if v >= 0 else "#bbbbbb" for v in values]
    bars = ax.barh(y, values, color=colours, height=0.72)
    shown = [shorten(name) for name in names]
    ax.set_yticks(y, shown, fontsize=9)
    rows_layout(fig, shown, title, xlabel)
    ax.invert_yaxis()
    ax.axvline(0, color="#222222", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=11, loc="left")
    ax.bar_label(bars, labels=[f"{v:.4f}" for v in values], padding=3, fontsize=8)
    low, high = min(0.0, *values), max(0.0, *values)
    pad = 0.2 * (high - low) or 0.001
    ax.set_xlim(low - (pad if low < 0 else 0), high + pad)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def fold_points(folds: pa.Table, model: str) -> bytes:
    """Micro-F1 per held-out fold: the model and the label-prior baseline, side by side."""
    fold = np.array(folds.column("fold").to_pylist())
    fig = Figure(figsize=(9.0, 3.2), layout="constrained")
    ax = fig.add_subplot()
    for column, label, colour, shift in (
        ("model_f1", model, "#4477aa", -0.12),
        ("stratified_f1", "label-prior baseline", "#bbbbbb", 0.12),
    ):
        values = [np.nan if v is None else v for v in folds.column(column).to_pylist()]
        ax.scatter(fold + shift, values, color=colour, label=label, zorder=3)
    ax.set_xticks(fold, [str(f) for f in fold])
    ax.set_xlabel("held-out fold")
    ax.set_ylabel("micro-F1")
    ax.set_ylim(bottom=0)
    ax.set_title("Micro-F1 per held-out fold", fontsize=11, loc="left")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def training_charts(data: ReportData) -> list[Chart]:
    """The lead run's per-fold scores and its importances (held-out permutation first)."""
    training = data.training
    if training is None:
        return []
    charts = []
    run_id = training.latest["run_id"]
    model = str(training.latest.get("model", "model")).replace("_", " ")
    if training.folds is not None:
        charts.append(
            Chart(
                key="folds",
                title=f"Micro-F1 per held-out fold, run {run_id}",
                alt=f"Dot plot of each fold's micro-F1 for the {model} and the label-prior "
                "baseline.",
                png=fold_points(training.folds, model),
            )
        )
    rows = training.importances.to_pylist()
    kind = "permutation" if any(r["kind"] == "permutation" for r in rows) else "impurity"
    shown = [r for r in rows if r["kind"] == kind]
    if shown:
        axis = {
            "permutation": "drop in held-out micro-F1 when shuffled (test folds only)",
            "impurity": "impurity importance (forest fit on all frames)",
        }[kind]
        title = f"{kind.capitalize()} importance, run {run_id}"
        charts.append(
            Chart(
                key="importances",
                title=title,
                alt=f"Horizontal bar chart of the {model}'s {kind} importances.",
                png=signed_bars(
                    [r["feature"] for r in shown], [r["importance"] for r in shown], title, axis
                ),
            )
        )
    return charts
