with

statistics as (
    select * from {{ ref('fct_label_feature_statistics') }}
),

dim_features as (
    select * from {{ ref('dim_features') }}
),

described as (
    select
        statistics.grain,
        statistics.label,
        statistics.feature,
        features.feature_kind,
        features.family as feature_family,
        features.role as feature_role,
        statistics.test_family,
        statistics.n_units,
        statistics.n_label,
        statistics.n_feature,
        statistics.n_both,
        statistics.n_label_all,
        statistics.n_units_all,
        statistics.p_feature,
        statistics.p_feature_given_label,
        statistics.lift,
        statistics.lift_ci_low,
        statistics.lift_ci_high,
        log2(statistics.lift) as pmi,
        statistics.odds_ratio,
        statistics.or_ci_low,
        statistics.or_ci_high,
        statistics.or_ci_method,
        ln(statistics.or_ci_low) as log_or_ci_low,
        statistics.p_value,
        statistics.q_value,
        statistics.or_ci_low > 1 or statistics.or_ci_high < 1 as ci_excludes_one,
        statistics.q_value < 0.05 as is_significant,
        statistics.n_clusters_both,
        statistics.cluster_unit,
        statistics.n_clusters,
        statistics.n_resamples,
        statistics.n_glosses_both,
        statistics.top_gloss,
        statistics.top_gloss_n_both,
        statistics.top_gloss_share,
        statistics.or_without_top_gloss,
        statistics.or_without_top_gloss_ci_low,
        statistics.or_without_top_gloss_ci_high,
        statistics.beats_chance,
        statistics.one_sign,
    from statistics
    inner join dim_features as features on statistics.feature = features.feature
),

-- The one ranking every reader uses: rows not resting on one sign first, then the lower
-- 95% bound of the log odds ratio, so a feature leads only when even its least favourable
-- plausible OR is high and more than one sign shows it.
ranked as (
    select
        *,
        row_number() over (
            partition by grain, label, feature_family
            order by one_sign, log_or_ci_low desc nulls last, n_both desc, feature
        ) as rank,
    from described
),

final as (
    select * from ranked
)

select * from final
