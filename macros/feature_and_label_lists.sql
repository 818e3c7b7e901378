{#-
    One row per unit of `relation` (a unit × feature table keyed by `keys`): the unit's
    paired features and its lexical labels, each a sorted list. Written once for the frame,
    sign and utterance grains of fct_association_units, whose CTEs `paired_features` and `labels` it
    reads.
-#}
{% macro feature_and_label_lists(relation, keys) %}
    select
        {% for key in keys -%}
        {{ relation }}.{{ key }},
        {% endfor -%}
        list({{ relation }}.feature order by {{ relation }}.feature)
            filter (where paired_features.feature is not null) as features,
        list({{ relation }}.feature order by {{ relation }}.feature)
            filter (where labels.feature is not null) as labels,
    from {{ relation }}
    left join paired_features on {{ relation }}.feature = paired_features.feature
    left join labels on {{ relation }}.feature = labels.feature
    group by all
{% endmacro %}
