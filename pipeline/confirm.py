"""`cli.py confirm`: refit a label's top pairs as logistic mixed models (lme4's glmer) and
store the fits in `mixed_model_confirmations`, replacing that label's earlier rows (a re-run
gives the same table, never duplicates). Runs after dbt: the table is Python's, like ml_*."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
from rich.progress import Progress

from read.confirm import Pair, load_pairs
from read.confirmations import SCHEMA, TABLE
from signaffect.core.arrow_tables import ensure_table, insert_arrow, transaction
from signaffect.core.choices import FACE
from signaffect.core.warehouse import connect
from signaffect.stats.glmer import fit_glmer, rscript


def confirm_label(
    db: Path,
    label: str,
    k: int,
    family: str,
    kinds: Sequence[str] = (),
    progress: Progress | None = None,
    role: str = FACE,
) -> pa.Table:
    """Fit and store the mixed model of each of `label`'s top `k` pairs (of features of
    `kinds`, when given); return the rows."""
    rscript()
    pairs = load_pairs(db, label, k, family, kinds, role)
    task = progress.add_task(f"glmer {label}", total=len(pairs)) if progress else None
    rows = []
    for pair in pairs:
        rows.append(_row(label, family, pair))
        if progress is not None and task is not None:
            progress.advance(task)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    con = connect(db, create=False)
    try:
        ensure_table(con, "main", TABLE, SCHEMA)
        with transaction(con):
            con.execute(
                f"delete from main.{TABLE} where label = ? and feature_family = ?",
                [label, family],
            )
            insert_arrow(con, f"main.{TABLE}", table)
    finally:
        con.close()
    return table


def _row(label: str, family: str, pair: Pair) -> dict[str, object]:
    tokens = pair.tokens
    fit = fit_glmer(
        np.asarray(tokens["has_feature"].to_pylist()),
        np.asarray(tokens["has_label"].to_pylist()),
        np.asarray(tokens["signer_id"].to_pylist()),
        np.asarray(tokens["gloss"].to_pylist()),
        np.asarray(tokens["story"].to_pylist()),
    )
    ranking = pair.ranking
    low = fit["ci_low"]
    return {
        "label": label,
        "feature": ranking["feature"],
        "feature_family": family,
        "grain": "sign",
        "rank": ranking["rank"],
        "odds_ratio": ranking["odds_ratio"],
        "or_ci_low": ranking["or_ci_low"],
        "or_ci_high": ranking["or_ci_high"],
        **pair.counts(),
        **fit,
        "survives": bool(fit["converged"]) and isinstance(low, float) and low > 0,
    }
