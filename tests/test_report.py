"""The report: self-contained HTML with the warehouse's numbers, a Markdown twin, and a page
that a real browser opens without a console error."""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from click.testing import Result
from typer.testing import CliRunner

from cli import app
from read.associations import top_features
from read.report import write_report
from read.report.render import Document, Heading, Para, Table, to_html, to_markdown
from signaffect.core.settings import PROJECT_DIR
from tests.conftest import scalar

runner = CliRunner()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
APT_HINT = "install it with: apt-get update && apt-get install -y chromium"


#: The repo's folders that `cli.py report` and `cli.py train` write by default.
DEFAULT_OUTPUTS = ("reports", "artifacts")


def repo_outputs() -> dict[Path, int]:
    """Every file under the repo's default output folders, with its modification time."""
    return {
        path: path.stat().st_mtime_ns
        for folder in DEFAULT_OUTPUTS
        for path in (PROJECT_DIR / folder).rglob("*")
    }


@pytest.fixture(scope="module", autouse=True)
def repo_untouched() -> Iterator[None]:
    """The report tests write under tmp_path only: the repo's output folders end as they
    began."""
    before = repo_outputs()
    yield
    assert repo_outputs() == before


def copy_db(source: Path, target_dir: Path) -> Path:
    """A private copy of a warehouse file (training writes ml_* tables into it)."""
    target = target_dir / "warehouse.duckdb"
    shutil.copy(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copy(wal, target.with_name(target.name + ".wal"))
    return target


def trained_copy(source: Path, folder: Path, cv: str) -> Path:
    """A copy of warehouse `source` in `folder` with one more run of `cli.py train --cv CV`
    (a small forest)."""
    db = copy_db(source, folder)
    result = runner.invoke(
        app,
        [
            "--quiet",
            "--db",
            str(db),
            "train",
            "--cv",
            cv,
            "--trees",
            "5",
            "--folds",
            "3",
            "--resamples",
            "50",
            "--importance-repeats",
            "1",
            "--artifacts-dir",
            str(folder / "artifacts"),
        ],
    )
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture(scope="module")
def kfold_db(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample warehouse with one frame-level (kfold) run alone."""
    return trained_copy(sample_db, tmp_path_factory.mktemp("report_kfold"), "kfold")


@pytest.fixture(scope="module")
def trained_db(kfold_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample warehouse with one frame-level (kfold) and one grouped (story) run."""
    return trained_copy(kfold_db, tmp_path_factory.mktemp("report_trained"), "story")


@pytest.fixture(scope="module")
def report(trained_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_report(trained_db, tmp_path_factory.mktemp("report"))


class Tables(HTMLParser):
    """Every <table> of a page as (caption, header cells, body rows of cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[str], list[list[str]]]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(("", [], []))
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            _, head, rows = self.tables[-1]
            self.tables[-1] = ("".join(self._caption), head, rows)
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            _, head, rows = self.tables[-1]
            if head:
                rows.append(self._row)
            else:
                head.extend(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        for part in (self._cell, self._caption):
            if part is not None:
                part.append(data)


def tables_of(page: str) -> list[tuple[str, list[str], list[list[str]]]]:
    parser = Tables()
    parser.feed(page)
    return parser.tables


def table_after(page: str, anchor: str) -> tuple[str, list[str], list[list[str]]]:
    """The first table after the element with id `anchor`."""
    start = page.index(f'id="{anchor}"')
    return tables_of(page[start:][page[start:].index("<table>") :])[0]


def test_report_is_self_contained_with_every_figure(report: tuple[Path, Path]) -> None:
    page = report[0].read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="[^"]+"', page)
    # Three count charts, the heatmap, the grammar, signer and timing figures, the lead
    # run's folds and its importances.
    assert len(images) == page.count("<img") == 9
    assert all(base64.b64decode(data).startswith(PNG_SIGNATURE) for data in images)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<script" not in page and "<link" not in page
    assert "Content-Security-Policy" in page


def test_label_tables_hold_the_association_mart_numbers(
    report: tuple[Path, Path], trained_db: Path
) -> None:
    page = report[0].read_text(encoding="utf-8")
    assert "Lexical features (part of speech, glosses, mouthed words) are left out" in page
    # The label rules leave the sample's empath:confusion three sign tokens, too few to
    # test, so only the other default label is ranked.
    assert 'id="label-empath-confusion"' not in page
    for label in ("empath:negative_emotion",):
        start = page.index('id="label-' + re.sub(r"[^a-z0-9]+", "-", label) + '"')
        tables = tables_of(page[start:])
        for family, (caption, head, rows) in zip(("signstream", "au"), tables, strict=False):
            top = top_features(trained_db, label, family=family, k=10)
            assert f"{family} features at sign grain" in caption
            assert "Mantel-Haenszel over 5 story strata" in caption and "exact" in caption
            assert len(rows) == top.table.num_rows
            for row, expected in zip(rows, top.table.to_pylist(), strict=True):
                cells = dict(zip(head, row, strict=True))
                assert cells["feature"] == expected["feature"]
                assert cells["with label"] == f"{expected['n_both']:,}"
                assert cells["P(feature)"] == f"{expected['p_feature']:.3f}"
                assert cells["P(feature | label)"] == f"{expected['p_feature_given_label']:.3f}"
                assert cells["OR 95% CI low"] == f"{expected['or_ci_low']:.2f}"
                assert "q-value" in head
                assert cells["note"] == expected["note"]
                assert cells["glosses"] == f"{expected['n_glosses_both']:,}"
    assert "is counted, not sampled" in page


def test_grammar_signer_and_timing_sections(report: tuple[Path, Path], trained_db: Path) -> None:
    page = report[0].read_text(encoding="utf-8")
    for anchor, heading in (
        ("grammar", "Affect or grammar?"),
        ("signers", "One signer or many?"),
        ("timing", "When the face moves: onset against the sign"),
    ):
        assert f'<h2 id="{anchor}">{html.escape(heading)}</h2>' in page
        figure = re.search(rf'<figure id="fig-{anchor}"><img [^>]*alt="([^"]+)"', page)
        assert figure and len(figure.group(1)) > 40, anchor
        caption = page[page.index(f'id="fig-{anchor}"') :].split("</figcaption>")[0]
        assert "Grain:" in caption and any(
            word in caption for word in ("bootstrap", "exact", "fct_sign_tokens")
        )
    caption, head, rows = table_after(page, "fig-grammar")
    assert head[:2] == ["label", "feature"] and "Breslow-Day p" in head
    assert {row[0] for row in rows} == {"empath:negative_emotion"}
    caption, head, rows = table_after(page, "fig-signers")
    shares = [float(row[head.index("share of label")]) for row in rows]
    assert sum(shares) == pytest.approx(1.0, abs=0.002)
    caption, head, rows = table_after(page, "fig-timing")
    assert head[:3] == ["feature", "spans", "n"] and rows


def test_count_charts_hold_the_frame_counts(report: tuple[Path, Path], trained_db: Path) -> None:
    page = report[0].read_text(encoding="utf-8")
    feature, n_frames = (
        duckdb.connect(str(trained_db), read_only=True)
        .execute(
            "select feature, n_frames from dim_features where feature_kind = 'au' "
            "order by n_frames desc, feature limit 1"
        )
        .fetchall()[0]
    )
    assert f"Most frequent: {html.escape(feature)} ({n_frames:,} frames)." in page
    au_table = next(t for t in tables_of(page) if t[2] and t[2][0][1] == "au")
    assert au_table[2][0][:3] == [feature, "au", f"{n_frames:,}"]


def test_training_section_shows_both_cv_modes(report: tuple[Path, Path], trained_db: Path) -> None:
    page = report[0].read_text(encoding="utf-8")
    kfold, story = (
        scalar(trained_db, f"select model_micro_f1 from ml_runs where cv = '{cv}'")
        for cv in ("kfold", "story")
    )
    averages = next(t for t in tables_of(page) if t[0].startswith("Averages of run"))
    first = averages[2][0]
    # The story run leads although the kfold run is newer.
    assert [first[0], first[1], first[4]] == ["random forest", "micro", f"{story:.3f}"]
    assert "(story CV)" in averages[0]
    _, head, rows = table_after(page, "cv-comparison")
    assert head[2].startswith("F1 kfold") and head[3].startswith("F1 story")
    assert rows[0] == ["random forest", "micro", f"{kfold:.3f}", f"{story:.3f}"]
    assert "Warning: kfold splits frames, not stories" in page
    assert 'id="fig-importances"' in page and 'id="fig-folds"' in page


def _training_part(page: str) -> str:
    start = page.index('id="training"')
    return page[start : page.index('id="provenance"')]


def test_the_verdict_sentence_comes_before_any_score(
    report: tuple[Path, Path], trained_db: Path
) -> None:
    page = report[0].read_text(encoding="utf-8")
    verdict = str(scalar(trained_db, "select verdict from ml_runs where cv = 'story'"))
    assert verdict.startswith("Verdict: random forest is ")
    training = _training_part(page)
    first_score = min(training.index(tag) for tag in ("<table", "<figure") if tag in training)
    assert 0 <= training.index(html.escape(verdict)) < first_score
    reading = scalar(trained_db, "select verdict_reading from ml_runs where cv = 'story'")
    no_skill = "describe a model with no demonstrated skill" in training
    assert no_skill == (reading != "above both baselines")
    _, head, rows = table_after(page, "per-label")
    assert head[-5:] == ["beats its prior", "AP", "AP 95% CI", "prevalence", "AP vs prevalence"]
    assert all(row[-1] in ("above prevalence", "not distinguishable from prevalence",
                           "below prevalence", "not estimable") for row in rows)


def test_kfold_alone_shows_no_kfold_number(kfold_db: Path, tmp_path: Path) -> None:
    html_path, _ = write_report(kfold_db, tmp_path / "report")
    training = _training_part(html_path.read_text(encoding="utf-8"))
    assert "Only frame-level kfold runs are recorded" in training
    assert "<table" not in training and "<figure" not in training


def test_markdown_twin_links_png_files(report: tuple[Path, Path], trained_db: Path) -> None:
    md_path = report[1]
    text = md_path.read_text(encoding="utf-8")
    pngs = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text)
    assert len(pngs) == 9  # as many as the HTML has figures
    for name in pngs:
        assert (md_path.parent / name).read_bytes().startswith(PNG_SIGNATURE)
    assert "empath:negative\\_emotion" in text  # escaped Markdown
    assert "| random forest | micro |" in text


@pytest.fixture(scope="module")
def untrained_report(
    sample_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Result, Path]:
    """`cli.py report --out DIR` on a copy of the sample warehouse without its training
    tables, and DIR (one render serves the CLI's output and the report without training)."""
    folder = tmp_path_factory.mktemp("report_untrained")
    db = copy_db(sample_db, folder)
    con = duckdb.connect(str(db))
    for table in ("ml_runs", "ml_label_metrics", "ml_feature_importance"):
        con.execute(f"drop table if exists main.{table}")
    con.close()
    out = folder / "report"
    return runner.invoke(app, ["--db", str(db), "report", "--out", str(out)]), out


def test_without_training_runs_the_report_says_so(untrained_report: tuple[Result, Path]) -> None:
    result, out = untrained_report
    assert result.exit_code == 0, result.output
    html_path, md_path = out / "report.html", out / "report.md"
    page = html_path.read_text(encoding="utf-8")
    assert "No training run is recorded in this warehouse" in page
    assert page.count("<img") == 7  # no importances figure
    assert "No training run is recorded" in md_path.read_text(encoding="utf-8")


def test_text_is_escaped() -> None:
    doc = Document("<b>title</b>")
    doc.add(
        Heading(2, "a & b", "x"),
        Para("<script>alert(1)</script> and `<code>`"),
        Table(["<th>"], [["<td> | pipe"]], [False], caption="<i>caption</i>"),
    )
    page = to_html(doc)
    assert "<script>" not in page and "<b>title" not in page and "<td> |" not in page
    assert "&lt;script&gt;" in page and "<code>&lt;code&gt;</code>" in page
    text = to_markdown(doc)
    assert "\\<td\\> \\| pipe" in text and "\\<script\\>" in text


def test_cli_report_prints_the_paths(
    untrained_report: tuple[Result, Path], sample_db: Path, tmp_path: Path
) -> None:
    result, out = untrained_report
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        str(out / "report.html"),
        str(out / "report.md"),
    ]
    bad = runner.invoke(
        app, ["--db", str(sample_db), "report", "--out", str(tmp_path), "--labels", "nope:x"]
    )
    assert bad.exit_code == 1
    assert "unknown label 'nope:x'" in bad.stderr


# --- in a real browser ------------------------------------------------------------------


def chromium() -> str:
    """The Chromium binary; its absence fails (CI installs it), it never skips."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:  # one line, not a traceback: the machine lacks it, the code is not at fault
        pytest.fail(f"headless Chromium is needed for this test; {APT_HINT}", pytrace=False)
    return found


def run_chromium(page: Path, profile: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on `page` with `options` (a screenshot, or --dump-dom)."""
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *options,
            "--window-size=1280,2000",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def open_in_chromium(page: Path, screenshot: Path, profile: Path) -> list[str]:
    """Load `page` in headless Chromium, save a 1280x2000 screenshot, and return the
    browser console's messages (Chromium logs them to stderr as `CONSOLE` lines)."""
    done = run_chromium(page, profile, f"--screenshot={screenshot}")
    return [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


def rendered_dom(page: Path, profile: Path) -> str:
    """The page's DOM as headless Chromium serialises it after loading."""
    return run_chromium(page, profile, "--dump-dom").stdout


def test_console_messages_are_caught(tmp_path: Path) -> None:
    """The check below would see an error: a page that logs one is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>console.error('broken-on-purpose')</script>")
    messages = open_in_chromium(bad, tmp_path / "bad.png", tmp_path / "profile")
    assert any("broken-on-purpose" in m for m in messages)


def test_report_opens_in_chromium_without_console_errors(
    report: tuple[Path, Path], trained_db: Path, tmp_path: Path
) -> None:
    screenshot = tmp_path / "report-screenshot.png"
    messages = open_in_chromium(report[0], screenshot, tmp_path / "profile")
    print(f"report screenshot: {screenshot}")
    assert messages == []
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    assert screenshot.stat().st_size > 20_000  # more than a blank page
    dom = rendered_dom(report[0], tmp_path / "profile-dom")
    for anchor in ("grammar", "signers", "timing"):
        assert f'id="{anchor}"' in dom
        assert re.search(rf'<figure id="fig-{anchor}"><img src="data:image/png;base64,', dom)
    # The page as the browser built it: the verdict sentence comes before any score
    # (the CSS has no floats or positioning, so document order is top-to-bottom order).
    verdict = html.escape(str(scalar(trained_db, "select verdict from ml_runs where cv = 'story'")))
    training = _training_part(dom)
    assert 0 <= training.index(verdict) < min(training.index("<table"), training.index("<figure"))
