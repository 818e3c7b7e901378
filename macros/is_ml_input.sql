{#-
    Whether a row of `relation` (a frame or sign-token feature) is an input of the ML marts:
    a feature of a kind in var ml_input_kinds whose role (dim_features.role, read from the
    model's CTE `dim_features`) is in var ml_input_roles. Written once for ml_frame_matrix
    and ml_sign_token_matrix.
-#}
{% macro is_ml_input(relation) -%}
    {{ relation }}.feature_kind in ({{ quoted(setting('ml_input_kinds')) }})
        and {{ relation }}.feature in (
            select feature from dim_features
            where role in ({{ quoted(setting('ml_input_roles')) }})
        )
{%- endmacro %}
