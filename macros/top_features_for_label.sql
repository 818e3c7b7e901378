{#-
    The `k` features that go with `label` at `grain` (frame, sign, utterance) among one
    `family` (signstream or au), best first by a ranking of `fct_label_feature_rankings`
    (default `ci`: the lower 95% bound of the log odds ratio); a row whose interval includes
    1 (`ci_excludes_one` false) is not distinguishable from chance.
-#}
{% macro top_features_for_label(label, k=10, grain='sign', family='signstream', ranked_by='ci') %}

with

rankings as (
    select * from {{ ref('fct_label_feature_rankings') }}
),

final as (
    select * exclude (ranked_by, grain, label, feature_family)
    from rankings
    where ranked_by = '{{ ranked_by }}'
        and grain = '{{ grain }}'
        and label = '{{ label }}'
        and feature_family = '{{ family }}'
        and rank <= {{ k }}
)

select * from final
order by rank
{% endmacro %}
