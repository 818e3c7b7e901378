"""Read the ML mart (read-only) and one-hot encode it into numpy / scipy arrays.

`ml_frame_matrix` keeps one row per frame (and `ml_sign_token_matrix` one per sign token,
for `--grain sign`, with the share of the token's frames beside each input) with sorted
lists of active input features and labels, because the set of action units and labels
depends on the corpus (a fixed wide contract is impossible). The one-hot encoding
therefore happens here, in the fixed sorted column order that `ml_feature_catalog`
publishes. The columns we rely on are declared once below and checked against the
warehouse before anything is read, so a drifted mart fails with one clear line instead of
a KeyError deep inside training.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from ml.options import Grain
from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import connect, connect_marts

MATRIX_TABLE = "ml_frame_matrix"
TOKEN_TABLE = "ml_sign_token_matrix"
CATALOG_TABLE = "ml_feature_catalog"

#: The columns `ml/` reads, with their DuckDB types: the single place they are declared.
MATRIX_COLUMNS: dict[str, str] = {
    "source_file": "VARCHAR",
    "utterance_id": "BIGINT",
    "frame_index": "BIGINT",
    "story": "VARCHAR",
    "signer_id": "VARCHAR",
    "input_features": "VARCHAR[]",
    "labels": "VARCHAR[]",
    "input_kinds": "VARCHAR[]",
    "target_kind": "VARCHAR",
    "lexical_scope": "VARCHAR",
}
TOKEN_COLUMNS: dict[str, str] = {
    "source_file": "VARCHAR",
    "utterance_id": "BIGINT",
    "annotation_id": "BIGINT",
    "story": "VARCHAR",
    "signer_id": "VARCHAR",
    "input_features": "VARCHAR[]",
    "input_shares": "DOUBLE[]",
    "labels": "VARCHAR[]",
    "input_kinds": "VARCHAR[]",
    "target_kind": "VARCHAR",
    "lexical_scope": "VARCHAR",
}
CATALOG_COLUMNS: dict[str, str] = {
    "feature": "VARCHAR",
    "role": "VARCHAR",
    "feature_kind": "VARCHAR",
    "n_frames": "BIGINT",
    "column_index": "BIGINT",
}

BUILD_HINT = "run `cli.py build` (or `cli.py run`) so dbt builds the ML mart, or pass --db"


@dataclass(frozen=True)
class Mart:
    """Where one grain's rows live and how they are ordered (never by the database)."""

    table: str
    columns: dict[str, str]
    order: str


MARTS = {
    Grain.frame: Mart(MATRIX_TABLE, MATRIX_COLUMNS, "source_file, utterance_id, frame_index"),
    Grain.sign: Mart(TOKEN_TABLE, TOKEN_COLUMNS, "source_file, utterance_id, annotation_id"),
}


@dataclass(frozen=True)
class MartSettings:
    """The dbt vars the mart was built with, as recorded on its rows."""

    input_kinds: tuple[str, ...]
    target_kind: str
    lexical_scope: str


@dataclass
class FrameMatrix:
    """One-hot inputs and labels per frame, plus the groups grouped CV needs.

    `X` is a CSR matrix (frames x input features, 0/1); `Y` is a dense uint8 array
    (frames x labels, 0/1). Column j of X is `feature_names[j]`, column k of Y is
    `label_names[k]`, both sorted by name. Frames are ordered by
    (source_file, utterance_id, frame_index), so row order never depends on the database.
    """

    X: sp.csr_matrix
    Y: np.ndarray
    feature_names: list[str]
    label_names: list[str]
    story: np.ndarray
    signer: np.ndarray
    utterance: np.ndarray
    settings: MartSettings
    feature_kinds: dict[str, str] = field(default_factory=dict)
    #: Each row's key in the mart (source_file, utterance_id, frame_index or annotation_id),
    #: so stored predictions name their frame or token.
    units: pa.Table | None = None

    @property
    def n_frames(self) -> int:
        return int(self.X.shape[0])

    @functools.cached_property
    def data_hash(self) -> str:
        """SHA-256 of everything a fit sees: names, one-hot cells, labels and groups (worked
        out once: two runs on one matrix record the same)."""
        digest = hashlib.sha256()
        for names in (self.feature_names, self.label_names):
            digest.update("\x1e".join(names).encode())
            digest.update(b"\x1d")
        X = self.X.tocsr()
        X.sort_indices()
        for array in (X.indptr, X.indices, self.Y):
            digest.update(np.ascontiguousarray(array).astype(np.int64, copy=False).tobytes())
        if not np.all(X.data == 1):  # sign tokens: the shares are data too
            digest.update(np.ascontiguousarray(X.data, dtype=np.float32).tobytes())
        for groups in (self.story, self.signer, self.utterance):
            digest.update("\x1e".join(map(str, groups)).encode())
        return digest.hexdigest()[:16]

    def select_labels(self, labels: list[str]) -> FrameMatrix:
        """The same frames with only `labels` as targets (in the order given)."""
        unknown = [name for name in labels if name not in self.label_names]
        if unknown:
            shown = ", ".join(self.label_names[:8]) + (" ..." if len(self.label_names) > 8 else "")
            raise SignAffectError(
                f"unknown label(s): {', '.join(unknown)}",
                f"labels in the matrix: {shown or '(none)'}; "
                "`cli.py query \"select * from ml_feature_catalog where role = 'label'\"` "
                "lists them all",
            )
        index = [self.label_names.index(name) for name in labels]
        return FrameMatrix(
            X=self.X,
            Y=np.ascontiguousarray(self.Y[:, index]),
            feature_names=self.feature_names,
            label_names=list(labels),
            story=self.story,
            signer=self.signer,
            utterance=self.utterance,
            settings=self.settings,
            feature_kinds=self.feature_kinds,
            units=self.units,
        )


def check_columns(con: duckdb.DuckDBPyConnection, table: str, expected: dict[str, str]) -> None:
    """Fail with one line if `table` is missing or lacks a column (or its type) we read."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'main' and table_name = ? and table_catalog = current_database()",
        [table],
    ).fetchall()
    if not rows:
        raise SignAffectError(f"the warehouse has no table {table}", BUILD_HINT)
    actual = {name: dtype.upper() for name, dtype in rows}
    problems = [
        f"{name} ({dtype}) missing" if name not in actual else f"{name} is {actual[name]}, "
        f"expected {dtype}"
        for name, dtype in expected.items()
        if actual.get(name) != dtype
    ]
    if problems:
        raise SignAffectError(
            f"{table} does not match what ml/ expects: {'; '.join(problems)}",
            "rebuild the warehouse with this version of the project (`cli.py build`)",
        )


def read_settings(db: Path, grain: Grain = Grain.frame) -> MartSettings | None:
    """The vars the grain's mart was built with, or None when there is no mart (or no rows)."""
    mart = MARTS[grain]
    con = connect(db, read_only=True)
    try:
        try:
            check_columns(con, mart.table, mart.columns)
        except SignAffectError:
            return None
        row = con.execute(
            f"select input_kinds, target_kind, lexical_scope from main.{mart.table} limit 1"
        ).fetchone()
    finally:
        con.close()
    if row is None:
        return None
    return MartSettings(tuple(row[0]), str(row[1]), str(row[2]))


def load_matrix(db: Path, grain: Grain = Grain.frame) -> FrameMatrix:
    """Read the grain's mart on a read-only connection (closed before returning), one-hot it."""
    mart = MARTS[grain]
    con = connect_marts(db, refuse_stale=True)
    try:
        check_columns(con, mart.table, mart.columns)
        check_columns(con, CATALOG_TABLE, CATALOG_COLUMNS)
        columns = ", ".join(mart.columns)
        matrix = con.sql(
            f"select {columns} from main.{mart.table} order by {mart.order}"
        ).to_arrow_table()
        catalog = con.sql(
            f"select feature, role, feature_kind, column_index from main.{CATALOG_TABLE} "
            "order by role, column_index"
        ).to_arrow_table()
    finally:
        con.close()
    return encode(matrix, catalog, grain)


def encode(matrix: pa.Table, catalog: pa.Table, grain: Grain = Grain.frame) -> FrameMatrix:
    """One-hot encode the mart's list columns in the catalog's sorted column order.

    A sign token's input cells hold the share of its frames with the feature, not 1.
    """
    mart = MARTS[grain]
    if matrix.num_rows == 0:
        raise SignAffectError(f"{mart.table} has no {grain.unit}", BUILD_HINT)
    rows = catalog.to_pylist()
    feature_names = sorted(r["feature"] for r in rows if r["role"] == "input")
    label_names = sorted(r["feature"] for r in rows if r["role"] == "label")
    if not feature_names:
        raise SignAffectError(
            f"{mart.table} has no input features (no row has one)",
            "build the action-unit features first, or try `--inputs facial`",
        )
    shares = matrix.column("input_shares") if "input_shares" in matrix.column_names else None
    X = _one_hot(matrix.column("input_features"), feature_names, f"{mart.table}.input_features",
                 shares)
    Y = _one_hot(matrix.column("labels"), label_names, f"{mart.table}.labels")
    first = matrix.slice(0, 1).to_pylist()[0]
    utterance = np.char.add(
        np.char.add(matrix.column("source_file").to_numpy(zero_copy_only=False).astype(str), "#"),
        matrix.column("utterance_id").to_numpy().astype(str),
    )
    return FrameMatrix(
        X=X,
        Y=Y.toarray().astype(np.uint8),
        feature_names=feature_names,
        label_names=label_names,
        story=matrix.column("story").to_numpy(zero_copy_only=False).astype(str),
        signer=matrix.column("signer_id").to_numpy(zero_copy_only=False).astype(str),
        utterance=utterance,
        settings=MartSettings(
            tuple(first["input_kinds"]), str(first["target_kind"]), str(first["lexical_scope"])
        ),
        feature_kinds={r["feature"]: r["feature_kind"] for r in rows},
        units=matrix.select(mart.order.split(", ")),
    )


def _one_hot(
    lists: pa.ChunkedArray, names: list[str], column: str, cells: pa.ChunkedArray | None = None
) -> sp.csr_matrix:
    """CSR matrix from a list<varchar> column, column j = names[j]: 1 where a name is
    listed, or the aligned value of list<double> `cells`."""
    combined = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    offsets = combined.offsets.to_numpy()
    values = combined.flatten()
    indices = pc.index_in(values, value_set=pa.array(names, pa.string()))
    if indices.null_count:
        unknown = pc.filter(values, pc.is_null(indices)).unique().to_pylist()[:5]
        raise SignAffectError(
            f"{column} has names missing from {CATALOG_TABLE}: {unknown}",
            "rebuild both models together: `cli.py build`",
        )
    cols = indices.to_numpy().astype(np.int32)
    indptr = (offsets - offsets[0]).astype(np.int64)
    if cells is None:
        data = np.ones(len(cols), dtype=np.float32)
    else:
        flat = cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells
        data = flat.flatten().to_numpy().astype(np.float32)
    out = sp.csr_matrix((data, cols, indptr), shape=(len(offsets) - 1, len(names)))
    out.sum_duplicates()
    if cells is None:
        out.data[:] = 1.0
    return out
