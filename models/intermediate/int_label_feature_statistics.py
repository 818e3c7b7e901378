"""One row per grain x label x feature tested: the clustered statistics of
`signaffect.stats.clustered_stats` over the units of `int_association_units` (see the YAML)."""

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
    units = dbt.ref("int_association_units").to_arrow_table()
    coverage = dbt.ref("fct_feature_coverage").to_arrow_table()
    # Benjamini-Hochberg families: each family (signstream, au) and kind apart.
    features = dbt.ref("dim_features").to_arrow_table().to_pylist()
    families = {row["feature"]: f"{row['family']}/{row['feature_kind']}" for row in features}
    return statistics(units, coverage, settings, families)
