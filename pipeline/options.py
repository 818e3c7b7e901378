"""The options of the pipeline's steps, as frozen dataclasses whose defaults are the CLI's.

Why apart: `cli.py` reads these defaults when it starts, for every command; the steps
themselves bring DuckDB, Parquet and the parsers, which only the command that runs them
should pay for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.frame_rates import DEFAULT_FPS


@dataclass(frozen=True)
class CorpusOptions:
    """How corpus files are read and labelled, for `cli.py ingest` and `run` alike (the CLI's
    defaults are these). `lexicon_names` and `categories` (`lexicon:category`) narrow the
    lexicons (see `ingest.lexicons.select_lexicons`); `tiers` is an ELAN tier mapping
    (default: detect a preset per file); `fps` is the frame rate of DAI 2 exports. The corpus
    becomes exactly the files given, or with `add` these plus those loaded before; `replace`
    lets a file replace a story loaded from another path."""

    lexicons: bool = True
    liwc_dic: Path | None = None
    lexicon_names: Sequence[str] | None = None
    categories: Sequence[str] = ()
    tiers: Path | None = None
    fps: float = DEFAULT_FPS
    add: bool = False
    replace: bool = False
