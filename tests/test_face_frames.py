"""raw.face_frames: the one loader every face source writes through (ingest/face_frames.py).

Loading twice gives the same rows; each (media_file, source) replaces only its own rows; a
table that breaks the contract is refused in one line and leaves the warehouse as it was.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from ingest.face_frames import store_face_frames
from signaffect.core.errors import SignAffectError
from signaffect.face_engine.schema import FACE_FRAMES_SCHEMA, MEASURES


def frames(media: str, source: str, n: int, value: float = 0.1) -> pa.Table:
    """`n` frames of one face with every measure at `value`."""
    return pa.Table.from_pylist(
        [
            {
                "media_file": media,
                "source": source,
                "source_file": f"{media}.csv",
                "video_frame": i,
                "time_ms": i * 1000 / 30,
                "face_id": 0,
                "face_found": True,
                "confidence": 0.9,
                "inter_ocular_px": 60.0,
                **dict.fromkeys(MEASURES, value),
                "scores": {"AU01_r": 1.5},
                "landmarks_x": [1.0, 2.0],
                "landmarks_y": [3.0, 4.0],
            }
            for i in range(n)
        ],
        schema=FACE_FRAMES_SCHEMA,
    )


def table_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select media_file, source, video_frame, brow_inner_left, scores['AU01_r'],"
        " landmarks_y from raw.face_frames order by all"
    ).fetchall()


def test_store_twice_gives_the_same_rows_and_keys_replace_only_their_own() -> None:
    con = duckdb.connect()
    assert store_face_frames(con, frames("a.mov", "openface_csv", 3)) == 3
    first = table_rows(con)
    assert store_face_frames(con, frames("a.mov", "openface_csv", 3)) == 3
    assert table_rows(con) == first
    assert first[0] == ("a.mov", "openface_csv", 0, 0.1, 1.5, [3.0, 4.0])
    store_face_frames(con, frames("a.mov", "mediapipe_csv", 2))
    store_face_frames(con, frames("a.mov", "openface_csv", 2, value=0.5))
    found = table_rows(con)
    assert [(r[1], r[2], r[3]) for r in found] == [
        ("mediapipe_csv", 0, 0.1),
        ("mediapipe_csv", 1, 0.1),
        ("openface_csv", 0, 0.5),
        ("openface_csv", 1, 0.5),
    ]


def test_columns_in_another_order_are_accepted() -> None:
    con = duckdb.connect()
    table = frames("a.mov", "openface_csv", 2)
    store_face_frames(con, table.select(list(reversed(table.schema.names))))
    assert len(table_rows(con)) == 2


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda t: t.drop_columns(["mouth_opening"]), "column(s) mouth_opening missing"),
        (
            lambda t: t.set_column(
                t.schema.get_field_index("video_frame"),
                "video_frame",
                t.column("video_frame").cast(pa.int64()),
            ),
            "column video_frame is int64, the contract says int32",
        ),
        (
            lambda t: t.set_column(
                t.schema.get_field_index("source"), "source", pa.array(["openfase"] * 3)
            ),
            "column source has unknown value(s) openfase",
        ),
        (
            lambda t: pa.concat_tables([t, t.slice(1, 1)]),
            "a.mov (openface_csv) has frame 1 of face 0 2 times",
        ),
    ],
)
def test_a_table_off_the_contract_is_refused_and_nothing_changes(breakage, message) -> None:
    con = duckdb.connect()
    store_face_frames(con, frames("a.mov", "openface_csv", 3))
    before = table_rows(con)
    with pytest.raises(SignAffectError, match=message.replace("(", r"\(").replace(")", r"\)")):
        store_face_frames(con, breakage(frames("a.mov", "openface_csv", 3, value=0.9)))
    assert table_rows(con) == before
