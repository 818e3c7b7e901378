{#-
    The build settings an ML matrix records on every row, so `ml/` and `cli.py train --scope`
    can tell what the matrix was built with: the input kinds (var ml_input_kinds), the kind
    its labels are (`target_kind`) and var lexical_scope. Written once for ml_frame_matrix
    and ml_sign_token_matrix.
-#}
{% macro ml_matrix_settings(target_kind) -%}
    [{{- quoted(setting('ml_input_kinds')) -}}]::varchar[] as input_kinds,
        '{{ target_kind }}' as target_kind,
        '{{ setting("lexical_scope") }}' as lexical_scope
{%- endmacro %}
