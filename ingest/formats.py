"""Which parser reads a corpus file: SignStream 2 XML, ASLLRP DAI 2 XML or ELAN .eaf.

The type comes from the suffix (.eaf) or, for .xml, from the root element named near the
top of the file; each parser then checks the whole file, and `parse` refuses one that
yields no annotation. Options that only one format needs (the ELAN tier mapping, the DAI 2
frame rate) travel in `ParseOptions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ingest import dai2, elan, signstream
from ingest.frame_rates import DEFAULT_FPS
from ingest.tier_mapping import TierMapping
from signaffect.core.errors import InputFileError

# How far into an .xml file its root element is looked for (after the declaration).
_SNIFF_BYTES = 4096


@dataclass(frozen=True)
class ParseOptions:
    """Per-format settings: an ELAN tier mapping (None: detect a preset) and DAI 2's fps."""

    tiers: TierMapping | None = None
    dai2_fps: float = DEFAULT_FPS


def format_of(path: Path) -> str:
    """`elan`, `dai2` or `signstream` (the SignStream parser reports any other XML)."""
    if path.suffix.lower() == ".eaf":
        return "elan"
    try:
        with path.open("rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError:
        return "signstream"  # its parser reports the unreadable file
    return "dai2" if b"<SIGNSTREAM_DAI" in head else "signstream"


def parse(path: Path, options: ParseOptions) -> dict[str, pa.Table]:
    """Parse one corpus file of any supported format into the raw tables; refuse a file
    that yields no annotation (it would replace a story with nothing). Whatever goes wrong
    is an `InputFileError` naming the file."""
    try:
        tables = _parse_as_its_format(path, options)
    except (InputFileError, MemoryError):
        raise
    except Exception as exc:  # a parser's unforeseen failure: still name the file
        raise InputFileError(
            str(path),
            "document",
            f"cannot be read ({type(exc).__name__}: {exc})",
            "check that it is a complete SignStream, DAI 2 or ELAN file; --debug shows where",
        ) from exc
    if tables["signstream_annotations"].num_rows == 0:
        utterances = tables["signstream_utterances"].num_rows
        raise InputFileError(
            str(path),
            "document",
            f"no annotation in its {utterances} utterance(s): the file holds nothing to load",
            "check that this is the file you meant; a story must have coded utterances",
        )
    return tables


def _parse_as_its_format(path: Path, options: ParseOptions) -> dict[str, pa.Table]:
    kind = format_of(path)
    if kind == "elan":
        return elan.parse(path, options.tiers)
    if kind == "dai2":
        return dai2.parse(path, options.dai2_fps)
    return signstream.parse(path)
