"""Writing results out: `report` (HTML and Markdown) and `export` (Parquet or ELAN)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from commands.common import State
from signaffect.core.paths import check_out_dir
from signaffect.core.progress import progress_bar

app = typer.Typer()


@app.command(
    epilog="Example: cli.py report --out reports/ncslgr\n\n"
    "Example: cli.py report --labels nrc:anger,nrc:joy --k 15"
)
def report(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for report.html, report.md and the PNGs.")
    ] = Path("reports"),
    labels: Annotated[
        str | None,
        typer.Option(help="Comma-separated lexical labels to rank features for. Default: "
                     "empath:negative_emotion and empath:confusion if present, else the most "
                     "frequent labels.", show_default=False),
    ] = None,
    top: Annotated[int, typer.Option(help="Bars per count chart.", min=1)] = 25,
    k: Annotated[int, typer.Option(help="Features per label table.", min=1)] = 10,
) -> None:
    """Write a self-contained HTML report (and a Markdown twin) from the warehouse."""
    from read.report import write_report

    chosen = [x.strip() for x in labels.split(",") if x.strip()] if labels else None
    check_out_dir(out_dir)
    html_path, md_path = write_report(State.db, out_dir, labels=chosen, top_n=top, k=k)
    sys.stdout.write(f"{html_path}\n{md_path}\n")


@app.command(epilog="Example: cli.py export --out export/ncslgr\n\n"
             "Example: cli.py export --elan elan/ --stories ali --stories 'three pigs'")
def export(
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder for the Parquet files and their README.md; "
                     "an earlier export there is replaced."),
    ] = Path("export"),
    elan: Annotated[
        Path | None,
        typer.Option(help="Instead of Parquet: one ELAN 3.0 file per story in this folder "
                     "(<story>.eaf, and <story>.tiers.toml that `cli.py ingest DIR` reads it "
                     "back with); files of the same stories are replaced.", show_default=False),
    ] = None,
    stories: Annotated[
        list[str] | None,
        typer.Option("--stories", help="With --elan: only these stories (repeat, or "
                     "comma-separated). Default: all.", show_default=False),
    ] = None,
    media: Annotated[
        Path | None,
        typer.Option(help="With --elan: the folder of the corpus's videos, linked by a path "
                     "relative to each .eaf. Default: beside the .eaf files.",
                     show_default=False),
    ] = None,
) -> None:
    """Export the frame dataset as Parquet (frame tables partitioned by story) with a card,
    or with --elan each story as an ELAN file of source and derived tiers."""
    if elan is not None:
        _export_elan(elan, stories, media)
        return
    if stories or media is not None:
        raise typer.BadParameter("--stories and --media go with --elan DIR")
    from read.export import export_dataset

    check_out_dir(out_dir)
    rows = export_dataset(State.db, out_dir)
    for name, n in rows.items():
        sys.stdout.write(f"{name}\t{n}\n")
    sys.stdout.write(f"{out_dir.resolve()}\n")


def _export_elan(folder: Path, stories: list[str] | None, media: Path | None) -> None:
    from read.elan_export import export_elan

    check_out_dir(folder, "--elan")
    chosen = [s.strip() for group in stories for s in group.split(",") if s.strip()] \
        if stories else None
    with progress_bar(State.quiet) as progress:
        task = progress.add_task("ELAN files", total=None)
        written = export_elan(State.db, folder, chosen, media,
                              on_story=lambda _: progress.advance(task))
    for story in written:
        sys.stdout.write(f"{story.eaf}\t{story.source_tiers} source tiers\t"
                         f"{story.derived_tiers} derived tiers\t{story.annotations} annotations\n")
