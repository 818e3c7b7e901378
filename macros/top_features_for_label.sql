{#-
    The features that go with `label` at `grain` (frame, sign, utterance) among one
    `family` (signstream or au), best first by the mart's own `rank` (lower 95% bound of
    the log odds ratio), with the base rate, counts, interval and q-value of each; a row
    whose interval includes 1 (`ci_excludes_one` false) is not distinguishable from chance.
-#}
{% macro top_features_for_label(label, k=10, grain='sign', family='signstream') %}

with

associations as (
    select * from {{ ref('fct_label_feature_associations') }}
),

final as (
    select
        rank,
        feature,
        feature_kind,
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
    from associations
    where label = '{{ label }}'
        and grain = '{{ grain }}'
        and feature_family = '{{ family }}'
        and rank <= {{ k }}
)

select * from final
order by rank
{% endmacro %}
