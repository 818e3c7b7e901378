"""One row per grain x label x feature tested: the clustered statistics of
`signaffect.stats.clustered_stats` over the units of `fct_association_units` (see the YAML).
`reuse_or_compute` keeps the last result while its inputs' fingerprint is unchanged."""

from signaffect.core.model_cache import reuse_or_compute
from signaffect.stats import association_model
from signaffect.stats.association_model import model_settings, statistics


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt records only literal meta_get calls, so each setting is read by name here.
    settings = model_settings(
        resamples=dbt.config.meta_get("resamples"),
        seed=dbt.config.meta_get("seed"),
        min_support=dbt.config.meta_get("min_support"),
        min_clusters=dbt.config.meta_get("min_clusters"),
        cluster_unit=dbt.config.meta_get("cluster_unit"),
    )
    return reuse_or_compute(
        dbt,
        session,
        inputs={
            "units": dbt.ref("fct_association_units"),
            "coverage": dbt.ref("fct_feature_coverage"),
            "features": dbt.ref("dim_features").project("feature, family, feature_kind"),
        },
        settings=settings,
        compute=lambda units, coverage, features: statistics(
            units, coverage, settings, test_families(features)
        ),
        code=[association_model],
    )


def test_families(features):
    """Benjamini-Hochberg families: each feature family (signstream, au) and kind apart."""
    return {
        row["feature"]: f"{row['family']}/{row['feature_kind']}" for row in features.to_pylist()
    }
