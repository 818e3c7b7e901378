"""The stored mixed-model fits (`mixed_model_confirmations`, written by `cli.py confirm`)
as `cli.py top` and the report show them: β [CI] and whether the pair survives the sign's
random effect (converged, and the 95% CI of the label's fixed effect above 0)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from signaffect.core.warehouse import table_exists
from signaffect.stats.glmer import FIT_SCHEMA

#: The table `cli.py confirm` writes (by Python, after dbt: not a dbt model).
TABLE = "mixed_model_confirmations"
SURVIVES = "survives the sign's random effect"
FAILS = "does not survive the sign's random effect"
NOT_CONVERGED = "mixed model did not converge"
SEPARATION = "separation: β not estimable"

#: One row per pair: keys, the mart's marginal OR beside the counts of the fitted tokens,
#: then glmer's fit.
SCHEMA = pa.schema(
    [
        ("label", pa.string()),
        ("feature", pa.string()),
        ("feature_family", pa.string()),
        ("grain", pa.string()),
        ("rank", pa.int64()),
        ("odds_ratio", pa.float64()),
        ("or_ci_low", pa.float64()),
        ("or_ci_high", pa.float64()),
    ]
    + [
        (name, pa.int64())
        for name in (
            "n_tokens",
            "n_label",
            "n_feature",
            "n_both",
            "n_signers",
            "n_glosses",
            "n_stories",
        )
    ]
    + list(FIT_SCHEMA)
    + [("survives", pa.bool_())]
)

def stored(con: duckdb.DuckDBPyConnection, label: str, family: str) -> dict[str, dict]:
    """The stored fits of `label`'s pairs of `family`, by feature (empty before `confirm`)."""
    if not table_exists(con, "main", TABLE):
        return {}
    rows = con.sql(
        f"select * from main.{TABLE} where label = $label and feature_family = $family",
        params={"label": label, "family": family},
    ).to_arrow_table()
    return {row["feature"]: row for row in rows.to_pylist()}


def note(fit: dict | None) -> str:
    """What the mixed model says of a pair: survives, does not, did not converge, or ''."""
    if fit is None:
        return ""
    if not fit["converged"]:
        return SEPARATION if "separation" in str(fit["message"]) else NOT_CONVERGED
    return SURVIVES if fit["survives"] else FAILS


def beta_text(fit: dict | None) -> str:
    """β [95% CI] of a stored fit; '' when not fitted or not estimable (`note` says why)."""
    if fit is None or not fit["converged"] or fit["beta"] is None:
        return ""
    return f"{fit['beta']:.2f} [{fit['ci_low']:.2f}, {fit['ci_high']:.2f}]"
