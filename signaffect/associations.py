"""Which features go with a label: ranked rows of `fct_feature_cooccurrence`, read-only.

The mart stores both orders of every feature pair that shares enough frames; here the label
is feature a and the features ranked are its partners b, so P(feature | label) is the
mart's `p_b_given_a`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa

from signaffect.errors import SignAffectError
from signaffect.warehouse import connect

#: What the ranking can be by, and the mart column each one sorts on (descending).
RANK_COLUMNS = {"p": "p_b_given_a", "lift": "lift", "pmi": "pmi"}

#: The feature kinds of the study's Tables 1-2: facial, head and grammatical markers, parts of
#: speech and FACS action units (not glosses, not other lexical labels).
DEFAULT_KINDS = ("facial", "head", "grammatical", "pos", "au")

_SQL = """
select
    feature_b as feature,
    kind_b as kind,
    n_ab,
    n_a as n_label,
    n_b as n_feature,
    p_b_given_a as p_feature_given_label,
    lift,
    pmi,
    g2,
    q_value,
from fct_feature_cooccurrence
where feature_a = $label
    and list_contains($kinds, kind_b)
    and n_ab >= $min_frames
order by {rank_column} desc, n_ab desc, feature_b
limit $k
"""


def top_features(
    db: Path,
    label: str,
    by: str = "p",
    k: int = 10,
    kinds: Iterable[str] = DEFAULT_KINDS,
    min_frames: int = 0,
) -> pa.Table:
    """The `k` features of `kinds` most associated with `label`, best first.

    `by` ranks by P(feature | label) (`p`), lift or PMI. `min_frames` drops features that
    share fewer frames with the label (the mart already requires dbt var
    `cooccurrence_min_frames`). Raises SignAffectError for an unknown label, kind or ranking.
    """
    if by not in RANK_COLUMNS:
        raise SignAffectError(f"cannot rank by {by!r}", f"use one of: {', '.join(RANK_COLUMNS)}")
    if k < 1:
        raise SignAffectError(f"k must be at least 1, not {k}", "pass --k 10, for example")
    kind_list = sorted({kind.strip() for kind in kinds if kind.strip()})
    con = connect(db, read_only=True)
    try:
        _check_kinds(con, kind_list)
        _check_label(con, label)
        return con.sql(
            _SQL.format(rank_column=RANK_COLUMNS[by]),
            params={"label": label, "kinds": kind_list, "min_frames": min_frames, "k": k},
        ).to_arrow_table()
    except duckdb.CatalogException:
        raise SignAffectError(
            f"{db} has no fct_feature_cooccurrence table",
            "run `cli.py build` to build the association mart",
        ) from None
    finally:
        con.close()


def _check_kinds(con: duckdb.DuckDBPyConnection, kinds: list[str]) -> None:
    rows = con.execute("select distinct feature_kind from dim_features").fetchall()
    known = {row[0] for row in rows}
    unknown = [kind for kind in kinds if kind not in known]
    if unknown or not kinds:
        raise SignAffectError(
            f"unknown feature kind(s): {', '.join(unknown) or '(none given)'}",
            f"kinds in this warehouse: {', '.join(sorted(known))}",
        )


def _check_label(con: duckdb.DuckDBPyConnection, label: str) -> None:
    """A label must be a feature with pairs in the mart; otherwise say why and suggest names."""
    paired = con.execute(
        "select count(*) from fct_feature_cooccurrence where feature_a = $label", {"label": label}
    ).fetchall()
    if paired[0][0] > 0:
        return
    known = con.execute(
        "select feature_kind, n_frames from dim_features where feature = $label", {"label": label}
    ).fetchall()
    if known:
        kind, n_frames = known[0]
        raise SignAffectError(
            f"label {label!r} ({kind}, {n_frames} frames) has no pairs in fct_feature_cooccurrence",
            "its kind may be outside dbt var cooccurrence_feature_kinds, or it shares fewer "
            "than cooccurrence_min_frames frames with every other feature",
        )
    names = [row[0] for row in con.execute("select feature from dim_features").fetchall()]
    raise SignAffectError(f"unknown label {label!r}", _suggestion(label, names))


def _suggestion(label: str, names: list[str]) -> str:
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(label.lower(), list(by_lower), n=5, cutoff=0.6)
    contains = [n for low, n in sorted(by_lower.items()) if label.lower() in low]
    suggestions = list(dict.fromkeys(contains + [by_lower[c] for c in close]))[:5]
    listing = 'list labels with: cli.py query "select feature from dim_features"'
    if suggestions:
        return f"did you mean {', '.join(repr(s) for s in suggestions)}? ({listing})"
    return listing
