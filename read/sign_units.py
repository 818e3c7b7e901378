"""Sign tokens of one label, with their story, signer and grammatical context, as the
clustered statistics take them.

The grammar and signer analyses split or subset the sign-grain units of
`fct_association_units` (the units `fct_label_feature_associations` counts), so every
stratum is counted exactly as the mart counts the whole corpus. Only one label is kept on
each unit and only the features analysed, which keeps each on-the-fly run small. The
bootstrap cluster is always the story here: strata and signers are compared by resampling
the stories they hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from read.associations import roles_of
from signaffect.core.choices import FACE
from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import connect_marts
from signaffect.stats.association_model import ModelSettings, statistics
from signaffect.stats.clustered_stats import Settings

#: Feature kinds never analysed against grammatical context: the markers themselves (they
#: define the strata) and parts of speech (the hand, not the face).
CONTEXT_EXCLUDED_KINDS = ("grammatical", "pos")

_UNITS_SQL = """
with

units as (
    select * from fct_association_units where grain = 'sign'
),

tokens as (
    select * from fct_sign_tokens
),

grammar as (
    select
        sign_token_id,
        bool_or(is_inside) as is_inside_grammar,
        coalesce(list(marker order by marker) filter (where is_inside), []) as markers,
    from fct_sign_token_grammar
    group by sign_token_id
),

final as (
    select
        units.grain,
        units.unit_key,
        units.source_file,
        tokens.story as cluster_key,
        units.block_key,
        list_filter(units.labels, lambda x: x = $label) as labels,
        list_filter(units.features, lambda x: list_contains($features, x)) as features,
        tokens.story,
        tokens.signer_id,
        grammar.is_inside_grammar,
        grammar.markers,
    from units
    inner join tokens on units.unit_key = tokens.sign_token_id
    inner join grammar on units.unit_key = grammar.sign_token_id
    order by units.unit_key
)

select * from final
"""


@dataclass(frozen=True)
class SignUnits:
    """The sign tokens (one row each, `units`) and the files coding each feature."""

    label: str
    #: The features analysed and their kinds.
    features: dict[str, str]
    units: pa.Table
    coverage: pa.Table
    #: The features' roles (`dim_features.role`).
    roles: dict[str, str] = field(default_factory=dict)

    def subset(self, mask: pa.ChunkedArray | pa.Array | np.ndarray) -> SignUnits:
        return replace(self, units=self.units.filter(mask))


def load(
    db: Path,
    label: str,
    family: str = "signstream",
    excluded_kinds: tuple[str, ...] = CONTEXT_EXCLUDED_KINDS,
    role: str = FACE,
) -> SignUnits:
    """The sign tokens with `label` (or without) and the features of `family` and `role`
    (`associations.ROLES`), other than those of `excluded_kinds` (by default the
    grammatical markers and parts of speech)."""
    con = connect_marts(db)
    try:
        check_label(con, label)
        rows = con.execute(
            "select feature, feature_kind, role from dim_features where family = $family "
            "and list_contains($roles, role) "
            "and not list_contains($excluded, feature_kind) order by feature",
            {"family": family, "roles": roles_of(role), "excluded": list(excluded_kinds)},
        ).fetchall()
        features = {feature: kind for feature, kind, _ in rows}
        if not features:
            raise SignAffectError(
                f"no features of family {family!r} and role {role!r} to analyse",
                "families in this warehouse: cli.py query "
                '"select distinct family from dim_features"',
            )
        units = con.sql(_UNITS_SQL, params={"label": label, "features": list(features)})
        coverage = con.sql(
            "select source_file, feature from fct_feature_coverage "
            "where list_contains($features, feature)",
            params={"features": list(features)},
        )
        return SignUnits(
            label,
            features,
            units.to_arrow_table(),
            coverage.to_arrow_table(),
            {feature: feature_role for feature, _, feature_role in rows},
        )
    except duckdb.CatalogException:
        raise SignAffectError(
            f"{db} lacks the sign-grain marts (fct_association_units, fct_sign_token_grammar)",
            "run `cli.py build` to build them",
        ) from None
    finally:
        con.close()


def check_label(con: duckdb.DuckDBPyConnection, label: str) -> None:
    """A label must be a lexical feature of the warehouse."""
    rows = con.execute(
        "select feature_kind from dim_features where feature = $label", {"label": label}
    ).fetchall()
    if not rows or rows[0][0] != "lexical":
        what = "not a lexical label" if rows else "unknown"
        raise SignAffectError(
            f"{label!r} is {what}",
            "list the labels with: cli.py query "
            "\"select feature from dim_features where feature_kind = 'lexical'\"",
        )


def associate_units(data: SignUnits, settings: Settings) -> pa.Table:
    """The clustered statistics of the label against every feature over `data.units`, one
    row per feature tested (the columns of `fct_label_feature_associations`' statistics)."""
    return statistics(data.units, data.coverage, _model_settings(settings))


def _model_settings(settings: Settings) -> ModelSettings:
    return ModelSettings(
        resamples=settings.resamples,
        seed=settings.seed,
        min_support={
            "frame": settings.min_support,
            "sign": settings.min_support,
            "utterance": settings.min_support,
        },
        min_clusters=settings.min_clusters,
        cluster_unit="story",
    )


def two_by_two(data: SignUnits, features: list[str]) -> np.ndarray:
    """features x 2 x 2 counts [[label & feature, label & not], [not & feature, neither]]
    over the units whose file codes the feature, counted unit by unit."""
    units = data.units
    labelled = pc.fill_null(pc.list_value_length(units.column("labels")), 0).to_numpy() > 0
    lists = units.column("features").combine_chunks()
    names = list(dict.fromkeys(features))
    active = pc.index_in(pc.list_flatten(lists), value_set=pa.array(names, pa.string()))
    active = pc.fill_null(active, -1).to_numpy()
    owner = pc.list_parent_indices(lists).to_numpy()
    tables = np.zeros((len(features), 2, 2))
    for i, feature in enumerate(features):
        files = pc.filter(
            data.coverage.column("source_file"), pc.equal(data.coverage.column("feature"), feature)
        )
        coded = pc.is_in(units.column("source_file"), value_set=files.combine_chunks())
        coded = pc.fill_null(coded, False).to_numpy(zero_copy_only=False)
        present = np.zeros(units.num_rows, dtype=bool)
        present[owner[active == names.index(feature)]] = True
        for row, has_label in enumerate((labelled, ~labelled)):
            for column, has_feature in enumerate((present, ~present)):
                tables[i, row, column] = np.count_nonzero(coded & has_label & has_feature)
    return tables


def is_inside(data: SignUnits) -> pa.ChunkedArray:
    return pc.fill_null(data.units.column("is_inside_grammar"), False)


def only_features(data: SignUnits, features: list[str]) -> SignUnits:
    """`data` with each unit's features narrowed to `features`, so the statistics engine
    tests only those (a stratum's few rows cost a few pairs, not every feature)."""
    keep = set(features)
    lists = [[f for f in row if f in keep] for row in data.units.column("features").to_pylist()]
    index = data.units.schema.get_field_index("features")
    units = data.units.set_column(index, "features", pa.array(lists, pa.list_(pa.string())))
    return replace(data, features={f: data.features[f] for f in features}, units=units)
