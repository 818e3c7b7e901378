"""dbt's unit tests (the SQL of the frame expansion, the association statistics and the FER
frame mapping). The pipeline's `build` leaves them out, as dbt advises for production
builds, so they run here, against the built sample warehouse."""

from __future__ import annotations

from pathlib import Path

from signaffect.core.dbt_runner import run_dbt


def test_every_dbt_unit_test_passes(sample_db: Path) -> None:
    ran = run_dbt("test", sample_db, extra_args=["--select", "test_type:unit"])  # raises on failure
    assert ran >= 7
