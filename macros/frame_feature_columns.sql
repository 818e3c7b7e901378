{#-
    The seven columns every frame feature source (int_frame_features_from_*) gives and
    fct_frame_features unions: a frame, one active feature, and where the feature comes from.
-#}
{% macro frame_feature_columns() -%}
    {{ return(frame_key() + ['feature', 'feature_kind', 'field_name', 'value_name']) }}
{%- endmacro %}
