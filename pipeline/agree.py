"""`cli.py agree`: a face measure against a manual code, every statistic pooled and per
signer, stored in `measure_code_agreement` (the rows of that measure and code replaced in
one transaction: a re-run gives the same table). Runs after dbt: the table is Python's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from read.agreement import POOLED, SCHEMA, TABLE, load_frames
from signaffect.core.arrow_tables import ensure_table, insert_arrow, transaction
from signaffect.core.warehouse import connect
from signaffect.stats.agreement import (
    Agreement,
    AgreementFrames,
    GroupAgreement,
    agreement,
)
from signaffect.stats.agreement_settings import AgreementSettings


def codes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Integer codes of a column's values, in order of first appearance."""
    return np.asarray(pc.dictionary_encode(column).combine_chunks().indices, dtype=np.int64)


def frames_of(table: pa.Table) -> tuple[AgreementFrames, list[str]]:
    """The statistics' arrays from load_frames' table, and the signer names by code."""
    utterance = pc.binary_join_element_wise(
        table["source_file"], pc.cast(table["utterance_id"], pa.string()), "\x1f"
    )
    signers = pc.dictionary_encode(table["signer"]).combine_chunks()
    frames = AgreementFrames(
        value=table["value"].to_numpy(),
        coded=np.asarray(table["coded"].to_numpy(zero_copy_only=False), dtype=bool),
        signer=np.asarray(signers.indices, dtype=np.int64),
        story=codes(table["story"]),
        utterance=codes(utterance),
        frame=np.asarray(table["frame_index"].to_numpy(), dtype=np.int64),
    )
    return frames, [str(name) for name in signers.dictionary.to_pylist()]


def rows_of(
    measure: str, code: str, result: Agreement, names: list[str], settings: AgreementSettings
) -> pa.Table:
    """One SCHEMA row per group: pooled, then each signer with its held-out threshold."""
    rules = {rule.signer: rule for rule in result.thresholds}
    rows = []
    for group in result.groups:
        rule = rules.get(group.signer)
        rows.append({
            "measure": measure,
            "code": code,
            "signer": POOLED if group.signer < 0 else names[group.signer],
            **_statistics(group),
            "direction": rule.direction if rule else None,
            "threshold": rule.threshold if rule and rule.threshold == rule.threshold else None,
            "onset_tolerance": settings.tolerance,
            "min_event_frames": settings.min_event_frames,
            "resamples": settings.resamples,
            "seed": settings.seed,
        })  # fmt: skip
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def _statistics(group: GroupAgreement) -> dict[str, object]:
    """A group's numbers as SCHEMA columns (NaN, not estimable, stored as null)."""

    def number(value: float) -> float | None:
        return None if np.isnan(value) else float(value)

    columns: dict[str, object] = {
        "n_frames": group.n_frames,
        "n_coded": group.n_coded,
        "base_rate": group.n_coded / group.n_frames if group.n_frames else None,
        "n_stories": group.n_stories,
        "n_coded_events": group.n_coded_events,
        "n_predicted_events": group.n_predicted_events,
        "n_matched_events": group.n_matched_events,
        "onset_diff_median": number(group.onset_median),
        "onset_diff_q25": number(group.onset_q25),
        "onset_diff_q75": number(group.onset_q75),
        "n_onsets": group.n_onsets,
    }
    for name, estimate in (("auc", group.auc), ("kappa", group.kappa),
                           ("event_precision", group.precision),
                           ("event_recall", group.recall)):  # fmt: skip
        columns[name] = number(estimate.value)
        columns[f"{name}_ci_low"] = number(estimate.low)
        columns[f"{name}_ci_high"] = number(estimate.high)
    return columns


def agree(db: Path, measure: str, code: str, settings: AgreementSettings) -> pa.Table:
    """Compute and store the agreement of `measure` with `code`; return the stored rows."""
    table = load_frames(db, measure, code)
    frames, names = frames_of(table)
    rows = rows_of(measure, code, agreement(frames, settings), names, settings)
    con = connect(db, create=False)
    try:
        ensure_table(con, "main", TABLE, SCHEMA)
        with transaction(con):
            con.execute(f"delete from main.{TABLE} where measure = ? and code = ?",
                        [measure, code])  # fmt: skip
            insert_arrow(con, f"main.{TABLE}", rows)
    finally:
        con.close()
    return rows
