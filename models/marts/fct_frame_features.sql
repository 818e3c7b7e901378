{#-
    One block per feature source, each with the same seven columns (macro
    frame_feature_columns): add a source by adding its intermediate model to this list.
-#}
{%- set feature_sources = [
    'int_frame_features_from_signstream',
    'int_frame_features_from_action_units',
    'int_frame_features_from_lexicon',
    'int_frame_features_from_fer',
    'int_frame_features_from_face',
] -%}

with

{% for source_model in feature_sources %}
{{ source_model }} as (
    select * from {{ ref(source_model) }}
),

{% endfor %}
unioned as (
    {%- for source_model in feature_sources %}
    select {{ frame_feature_columns() | join(', ') }}
    from {{ source_model }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select * from unioned
)

select * from final
