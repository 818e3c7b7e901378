{#-
    The study's Tables 1-2 as SQL: the features most probable in frames carrying `label`,
    ranked by P(feature | label), with the counts behind each probability. Kinds ranked and
    the least frames shared with the label come from vars top_features_kinds and
    top_features_min_support (the mart's own floor is cooccurrence_min_frames).
-#}
{% macro top_features_for_label(label, k=10) %}
{%- set kinds = var('top_features_kinds') -%}
{%- if kinds is string %}{% set kinds = kinds.split(',') | map('trim') | list %}{% endif %}

with

cooccurrence as (
    select * from {{ ref('fct_feature_cooccurrence') }}
),

label_partners as (
    select
        feature_b as feature,
        kind_b as feature_kind,
        n_ab as n_frames_with_label,
        n_a as n_label_frames,
        n_b as n_feature_frames,
        p_b_given_a as p_feature_given_label,
        lift,
        pmi,
        g2,
        q_value,
    from cooccurrence
    where feature_a = '{{ label }}'
        and kind_b in ({% for kind in kinds %}'{{ kind }}'{% if not loop.last %}, {% endif %}{% endfor %})
        and n_ab >= {{ var('top_features_min_support') }}
),

ranked as (
    select
        row_number() over (
            order by p_feature_given_label desc, n_frames_with_label desc, feature
        ) as rank,
        *,
    from label_partners
),

final as (
    select * from ranked
    where rank <= {{ k }}
)

select * from final
order by rank
{% endmacro %}
