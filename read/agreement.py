"""`cli.py agree` reads and shows: the frames of a face measure and a manual code, the stored
agreement rows (`measure_code_agreement`) and their terminal table and caption.

Why here: the frames come from the marts (fct_face_measures, fct_frame_features,
fct_feature_coverage, fct_frames); the statistics (signaffect/stats/agreement.py) and the
writing (pipeline/agree.py) know nothing of SQL.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import connect_marts, require_built, table_exists

#: The table `cli.py agree` writes (by Python, after dbt: not a dbt model).
TABLE = "measure_code_agreement"
#: The marts the frames come from.
MARTS = ("fct_face_measures", "fct_frame_features", "fct_feature_coverage", "dim_features")
#: The numeric columns of fct_face_measures a MEASURE may name (else a score's name).
MEASURE_COLUMNS = (
    "head_pitch_deg", "head_yaw_deg", "head_roll_deg", "brow_inner_left", "brow_inner_right",
    "brow_outer_left", "brow_outer_right", "brow_height", "eye_aperture_left",
    "eye_aperture_right", "eye_aperture", "mouth_opening", "z_brow_height", "z_eye_aperture",
    "z_mouth_opening", "z_head_pitch_deg", "z_head_yaw_deg", "z_head_roll_deg",
)  # fmt: skip
POOLED = "pooled"

#: One row per (measure, code, group): the group is `pooled` or a signer.
SCHEMA = pa.schema(
    [
        ("measure", pa.string()),
        ("code", pa.string()),
        ("signer", pa.string()),
        ("n_frames", pa.int64()),
        ("n_coded", pa.int64()),
        ("base_rate", pa.float64()),
        ("n_stories", pa.int64()),
        *[
            (f"{name}{part}", pa.float64())
            for name in ("auc", "kappa", "event_precision", "event_recall")
            for part in ("", "_ci_low", "_ci_high")
        ],
        ("direction", pa.int64()),
        ("threshold", pa.float64()),
        ("n_coded_events", pa.int64()),
        ("n_predicted_events", pa.int64()),
        ("n_matched_events", pa.int64()),
        ("onset_diff_median", pa.float64()),
        ("onset_diff_q25", pa.float64()),
        ("onset_diff_q75", pa.float64()),
        ("n_onsets", pa.int64()),
        ("onset_tolerance", pa.int64()),
        ("min_event_frames", pa.int64()),
        ("resamples", pa.int64()),
        ("seed", pa.int64()),
    ]
)

_FRAMES_SQL = """
with coded_files as (
    select source_file from fct_feature_coverage where feature = $code
),
coded as (
    select source_file, utterance_id, frame_index
    from fct_frame_features where feature = $code
)
select
    m.source_file, m.story, m.utterance_id, m.frame_index,
    coalesce(m.signer_id, 'story ' || m.story) as signer,
    cast({value} as double) as value,
    coded.frame_index is not null as coded,
from fct_face_measures as m
inner join coded_files using (source_file)
left join coded using (source_file, utterance_id, frame_index)
where {value} is not null {where}
order by m.source_file, m.utterance_id, m.frame_index
"""

#: The measured utterance with the most coded frames (ties: the first by file and id).
_EXAMPLE_SQL = """
select source_file, utterance_id
from fct_face_measures as m
inner join fct_frame_features as f using (source_file, utterance_id, frame_index)
where f.feature = $code and {value} is not null
group by source_file, utterance_id
order by count(*) desc, source_file, utterance_id
limit 1
"""


def measure_expression(measure: str) -> str:
    """The SQL of a MEASURE: a column of fct_face_measures, or a score by name."""
    if measure in MEASURE_COLUMNS:
        return f"m.{measure}"
    if measure.replace("_", "").isalnum():
        return f"m.scores['{measure}']"
    raise SignAffectError(
        f"{measure!r} is not a face measure",
        f"use one of {', '.join(MEASURE_COLUMNS)}, or a score such as AU01_r or browInnerUp",
    )


def load_frames(db: Path, measure: str, code: str) -> pa.Table:
    """One row per measured utterance frame in the files coding `code`'s field: story,
    signer, the measure's value and whether `code` is on the frame; an error says why
    there is none."""
    require_built(db, MARTS)
    con = connect_marts(db, refuse_stale=True)
    try:
        _check_code(con, code)
        frames = frames_sql(con, measure, code)
    finally:
        con.close()
    if not frames.num_rows:
        raise SignAffectError(
            f"no utterance frame has both a {measure} value and coding of {code!r}",
            "load face measures of this corpus's videos (`cli.py ingest --face-csv`, then "
            "`cli.py build`); fct_face_measures holds the measured frames",
        )
    return frames


def frames_sql(
    con: duckdb.DuckDBPyConnection,
    measure: str,
    code: str,
    utterance: tuple[str, int] | None = None,
) -> pa.Table:
    """The frames of load_frames, or of one (source_file, utterance_id) only."""
    where, params = "", dict[str, object](code=code)
    if utterance is not None:
        where = "and m.source_file = $file and m.utterance_id = $utterance"
        params |= {"file": utterance[0], "utterance": utterance[1]}
    sql = _FRAMES_SQL.format(value=measure_expression(measure), where=where)
    return con.sql(sql, params=params).to_arrow_table()


def example_utterance(
    con: duckdb.DuckDBPyConnection, measure: str, code: str
) -> tuple[str, int] | None:
    """The measured utterance with the most frames coded `code`, to draw; None if none."""
    found = con.sql(
        _EXAMPLE_SQL.format(value=measure_expression(measure)), params={"code": code}
    ).fetchall()
    return (str(found[0][0]), int(found[0][1])) if found else None


def _check_code(con: duckdb.DuckDBPyConnection, code: str) -> None:
    found = con.execute("select count(*) from dim_features where feature = ?", [code]).fetchall()
    if not found[0][0]:
        raise SignAffectError(
            f"{code!r} is not a coded feature of this warehouse",
            "name a feature as dim_features spells it, e.g. 'eye brows=raised'",
        )


def stored_rows(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Every stored agreement row (empty before `cli.py agree`)."""
    if not table_exists(con, "main", TABLE):
        return SCHEMA.empty_table()
    return con.sql(f"select * from main.{TABLE} order by measure, code, signer").to_arrow_table()


def pooled_only(rows: pa.Table) -> pa.Table:
    """The pooled row(s) of stored agreement rows."""
    return rows.filter(pc.equal(rows["signer"], POOLED))


def _interval(row: dict, name: str) -> str:
    value, low, high = row[name], row[f"{name}_ci_low"], row[f"{name}_ci_high"]
    if value is None or value != value:
        return "not estimable"
    if low is None or low != low:
        return f"{value:.2f} [no CI]"
    return f"{value:.2f} [{low:.2f}, {high:.2f}]"


def _onsets(row: dict) -> str:
    if not row["n_onsets"]:
        return "none"
    return (
        f"{row['onset_diff_median']:+.0f} [{row['onset_diff_q25']:+.0f}, "
        f"{row['onset_diff_q75']:+.0f}] (n {row['n_onsets']})"
    )


def for_terminal(rows: pa.Table) -> pa.Table:
    """The agreement rows as text columns for a terminal."""
    data = rows.to_pylist()
    return pa.table(
        {
            "signer": [r["signer"] for r in data],
            "frames (coded)": [
                f"{r['n_frames']:,} ({r['n_coded']:,}, {r['base_rate']:.1%})" for r in data
            ],
            "stories": [str(r["n_stories"]) for r in data],
            "AUC [95% CI]": [_interval(r, "auc") for r in data],
            "kappa [95% CI]": [_interval(r, "kappa") for r in data],
            "events matched / coded / predicted": [
                f"{r['n_matched_events']} / {r['n_coded_events']} / {r['n_predicted_events']}"
                for r in data
            ],
            "precision": [_interval(r, "event_precision") for r in data],
            "recall": [_interval(r, "event_recall") for r in data],
            "onset diff median [IQR]": [_onsets(r) for r in data],
        }
    )


def caption(measure: str, code: str, rows: pa.Table) -> str:
    """What the agreement table holds, its units and how to read it."""
    first = rows.slice(0, 1).to_pylist()[0]
    return (
        f"{measure} against {code!r}. Unit: utterance frames with a measured face in the files "
        f"coding the code's field; the base rate is the share of those frames coded. AUC: "
        f"P(a coded frame's {measure} > an uncoded frame's), 0.5 = chance, below 0.5 = the "
        f"code goes with low values. kappa: frame yes/no at a threshold chosen on the other "
        f"signers (leave-one-signer-out; never on the frames scored). Events: runs of coded "
        f"frames, and runs of at least {first['min_event_frames']} predicted frames, matched "
        f"one to one when their onsets differ by at most {first['onset_tolerance']} frames. "
        f"Onset diff: nearest predicted onset minus coded onset, frames (negative: the "
        f"measure leads). 95% CIs: percentile bootstrap over stories "
        f"({first['resamples']} draws, thresholds held fixed)."
    )
