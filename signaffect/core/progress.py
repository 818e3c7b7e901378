"""Rich progress bars on stderr: shown to people at a terminal, silent for pipes and --quiet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


@contextmanager
def progress_bar(quiet: bool = False) -> Iterator[Progress]:
    """A Progress that draws only when stderr is a terminal and the user did not ask for quiet."""
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        # Descriptions can be file names: shown verbatim, never read as markup.
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet or not console.is_terminal,
    ) as progress:
        yield progress
