"""The warehouse as a report: one self-contained HTML file and a Markdown twin with PNGs.

`write_report(db, out_dir)` reads the warehouse read-only (`data`), draws the figures with
matplotlib's Agg canvas (`figures`) and writes both documents (`render`).
"""

from __future__ import annotations

from read.report.render import write_report

__all__ = ["write_report"]
