"""Facts about SignStream files that tests check the warehouse against, written independently
of `ingest/` so a test does not take the code's word for them."""

from __future__ import annotations

#: The value ids SignStream gives its transitions HOLD, ONSET and OFFSET (never features).
TRANSITION_VALUE_IDS = frozenset({400000, 400001, 400002})
