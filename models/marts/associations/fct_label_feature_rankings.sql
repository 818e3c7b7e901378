with

associations as (
    select * from {{ ref('fct_label_feature_associations') }}
),

-- Each ranking orders a label's features of one family at one grain by a measure,
-- descending, then by shared units, then by name; `ci` is the mart's own `rank`.
measures as (
    select
        *,
        unnest([
            {ranked_by: 'ci', measure: -rank::double},
            {ranked_by: 'p', measure: p_feature_given_label},
            {ranked_by: 'lift', measure: lift},
            {ranked_by: 'pmi', measure: pmi},
        ], recursive := true),
    from associations
),

ranked as (
    select
        *,
        row_number() over (
            partition by grain, label, feature_family, ranked_by
            order by measure desc nulls last, n_both desc, feature
        ) as ranking_rank,
    from measures
),

final as (
    select
        grain,
        label,
        feature_family,
        ranked_by,
        ranking_rank as rank,
        feature,
        feature_kind as kind,
        feature_role as role,
        n_both,
        n_label,
        n_feature,
        n_units,
        p_feature,
        p_feature_given_label,
        lift,
        odds_ratio,
        or_ci_low,
        or_ci_high,
        q_value,
        ci_excludes_one,
        beats_chance,
        n_glosses_both,
        top_gloss,
        top_gloss_n_both,
        top_gloss_share,
        or_without_top_gloss,
        or_without_top_gloss_ci_low,
        or_without_top_gloss_ci_high,
        one_sign,
    from ranked
)

select * from final
