"""The dbt Python model's work: the units of each grain into clustered_stats, rows out.

`models/marts/associations/fct_label_feature_statistics.py` only reads its refs and its config
and calls `statistics`; everything relational happens before it, in
`fct_association_units` (one row per grain x unit with its label and feature lists), and
everything presentational after it, in `fct_label_feature_associations`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from signaffect.core.choices import GRAINS  # in the order rows are written
from signaffect.stats.clustered_stats import (
    Incidence,
    PairStatistics,
    Settings,
    associate,
    beats_chance,
    one_sign,
)


@dataclass(frozen=True)
class ModelSettings:
    """dbt vars association_resamples, association_seed, association_min_support (per
    grain), association_min_clusters and association_cluster_unit, as the model's config
    carries them."""

    resamples: int
    seed: int
    min_support: dict[str, int]
    min_clusters: int
    cluster_unit: str


def model_settings(
    resamples: Any, seed: Any, min_support: Any, min_clusters: Any, cluster_unit: Any
) -> ModelSettings:
    """Settings from the model's config meta, which dbt renders from Jinja: numbers may
    arrive as strings and the per-grain support as JSON."""
    support = json.loads(min_support) if isinstance(min_support, str) else dict(min_support)
    missing = [grain for grain in GRAINS if grain not in support]
    if missing:
        raise ValueError(f"association_min_support lacks grain(s) {', '.join(missing)}")
    return ModelSettings(
        resamples=int(resamples),
        seed=int(seed),
        min_support={grain: int(support[grain]) for grain in GRAINS},
        min_clusters=int(min_clusters),
        cluster_unit=str(cluster_unit),
    )


def statistics(
    units: pa.Table,
    coverage: pa.Table,
    settings: ModelSettings,
    test_families: dict[str, str] | None = None,
) -> pa.Table:
    """One row per grain x label x feature tested (see the YAML docs for the columns).
    `test_families` maps each feature to its Benjamini-Hochberg family (default: one
    family); `units` may carry `item_key`, the unit's gloss (null: none)."""
    # A corpus ingested without lexicons has only empty label lists, typed list<null>.
    for name in ("labels", "features"):
        index = units.schema.get_field_index(name)
        units = units.set_column(index, name, units.column(name).cast(pa.list_(pa.string())))
    labels = _names(units.column("labels"))
    features = _names(units.column("features"))
    sources = _distinct(units.column("source_file"))
    coded = np.zeros((len(sources), len(features)), dtype=bool)
    source = _codes(coverage.column("source_file"), sources)
    feature = _codes(coverage.column("feature"), features)
    known = (source >= 0) & (feature >= 0)
    coded[source[known], feature[known]] = True
    families = test_families or {}
    family = _family_codes(features, families)
    parts = []
    for grain in GRAINS:
        rows = units.filter(pc.equal(units.column("grain"), grain))
        if rows.num_rows == 0:
            continue
        item_names = _distinct(rows.column("item_key")) if "item_key" in rows.column_names else []
        items = _codes(rows.column("item_key"), item_names) if item_names else None
        incidence = Incidence(
            labels=_incidence(rows.column("labels"), labels),
            features=_incidence(rows.column("features"), features),
            source=_codes(rows.column("source_file"), sources),
            coverage=coded,
            cluster=_codes(rows.column("cluster_key"), None),
            block=_codes(rows.column("block_key"), None),
            item=items,
            family=family,
        )
        result = associate(
            incidence,
            Settings(
                resamples=settings.resamples,
                seed=settings.seed,
                min_support=settings.min_support[grain],
                min_clusters=settings.min_clusters,
            ),
        )
        names = Names(labels, features, item_names, families)
        parts.append(_rows(grain, result, names, settings.cluster_unit))
    return pa.concat_tables(parts) if parts else _rows("frame", None, Names(), "")


def _family_codes(features: list[str], families: dict[str, str]) -> np.ndarray:
    """Each feature's BH family as an integer code ("" for a feature with none)."""
    names = sorted({families.get(name, "") for name in features})
    return np.array([names.index(families.get(name, "")) for name in features], dtype=np.int64)


def _names(lists: pa.ChunkedArray) -> list[str]:
    return sorted(pc.unique(pc.list_flatten(lists)).to_pylist())


def _incidence(lists: pa.ChunkedArray, names: list[str]) -> sparse.csr_array:
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy()
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = pc.index_in(pc.list_flatten(lists), value_set=pa.array(names, pa.string())).to_numpy()
    return sparse.csr_array(
        (np.ones(indices.size), indices, indptr), shape=(len(lengths), len(names))
    )


def _codes(column: pa.ChunkedArray, names: list[str] | None) -> np.ndarray:
    """Integer codes of a string column (its position in `names`, by default its distinct
    values in order); nulls and values not in `names` become -1 (a unit in no block)."""
    order = names if names is not None else _distinct(column)
    codes = pc.index_in(column, value_set=pa.array(order, pa.string()))
    return np.asarray(pc.fill_null(codes, -1).to_numpy(), dtype=np.int64)


def _distinct(column: pa.ChunkedArray) -> list[str]:
    """The column's distinct non-null values, in Python's order."""
    return sorted(pc.unique(column).drop_null().to_pylist())


def _item_columns(result: PairStatistics | None, names: Names) -> dict[str, pa.Array]:
    """The gloss columns: distinct glosses with both, the commonest, its units and share,
    and the MH odds ratio and interval without it."""
    items = None if result is None else result.items

    def counts(values: np.ndarray | None) -> pa.Array:
        return pa.array(
            [] if values is None else [None if i < 0 else int(i) for i in values], pa.int64()
        )

    def floats(values: np.ndarray | None) -> pa.Array:
        return pa.array([] if values is None else values, pa.float64(), from_pandas=True)

    top = [] if items is None else [names.items[i] if i >= 0 else None for i in items.top_item]
    share = (
        None
        if items is None or result is None
        else np.where(items.top_item >= 0, items.top_item_both, np.nan) / result.n_both
    )
    return {
        "n_glosses_both": counts(None if items is None else items.n_items_both),
        "top_gloss": pa.array(top, pa.string()),
        "top_gloss_n_both": counts(None if items is None else items.top_item_both),
        "or_without_top_gloss": floats(None if items is None else items.odds_ratio),
        "or_without_top_gloss_ci_low": floats(None if items is None else items.or_ci_low),
        "or_without_top_gloss_ci_high": floats(None if items is None else items.or_ci_high),
        "top_gloss_share": floats(share),
    }


@dataclass(frozen=True)
class Names:
    """What the statistics' integer codes stand for at one grain."""

    labels: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    families: dict[str, str] = field(default_factory=dict)


def _rows(grain: str, result: PairStatistics | None, names: Names, cluster_unit: str) -> pa.Table:
    n = 0 if result is None else result.label_index.size

    def column(name: str, kind: pa.DataType) -> pa.Array:
        values = np.zeros(0) if result is None else getattr(result, name)
        return pa.array(values, type=kind, from_pandas=True)

    label_names = [] if result is None else [names.labels[i] for i in result.label_index]
    feature_names = [] if result is None else [names.features[i] for i in result.feature_index]
    return pa.table(
        {
            "grain": pa.array([grain] * n, pa.string()),
            "label": pa.array(label_names, pa.string()),
            "feature": pa.array(feature_names, pa.string()),
            "test_family": pa.array(
                [names.families.get(f, "") for f in feature_names], pa.string()
            ),
            "n_units": column("n_units", pa.int64()),
            "n_label": column("n_label", pa.int64()),
            "n_feature": column("n_feature", pa.int64()),
            "n_both": column("n_both", pa.int64()),
            "n_label_all": column("n_label_all", pa.int64()),
            "n_units_all": pa.array([0 if result is None else result.n_units_all] * n, pa.int64()),
            "p_feature": column("p_feature", pa.float64()),
            "p_feature_given_label": column("p_feature_given_label", pa.float64()),
            "lift": column("lift", pa.float64()),
            "lift_ci_low": column("lift_ci_low", pa.float64()),
            "lift_ci_high": column("lift_ci_high", pa.float64()),
            "odds_ratio": column("odds_ratio", pa.float64()),
            "or_ci_low": column("or_ci_low", pa.float64()),
            "or_ci_high": column("or_ci_high", pa.float64()),
            "or_ci_method": pa.array(
                [None if result is None else result.or_ci_method] * n, pa.string()
            ),
            "p_value": column("p_value", pa.float64()),
            "q_value": column("q_value", pa.float64()),
            "n_clusters_both": column("n_clusters_both", pa.int64()),
            "cluster_unit": pa.array([cluster_unit] * n, pa.string()),
            "n_clusters": pa.array([0 if result is None else result.n_clusters] * n, pa.int64()),
            "n_resamples": pa.array([0 if result is None else result.resamples] * n, pa.int64()),
            **_item_columns(result, names),
            "beats_chance": pa.array([] if result is None else beats_chance(result), pa.bool_()),
            "one_sign": pa.array([] if result is None else one_sign(result), pa.bool_()),
        }
    )
