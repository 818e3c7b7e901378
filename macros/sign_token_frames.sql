{#-
    The join condition of a sign token and the rows of `frames` (any table with source_file,
    utterance_id and frame_index) that lie within its span: the one statement of which
    frames are a token's, for its features, its grammar and the association units.
-#}
{% macro on_sign_token_frames(tokens, frames) -%}
    {{ tokens }}.source_file = {{ frames }}.source_file
        and {{ tokens }}.utterance_id = {{ frames }}.utterance_id
        and {{ frames }}.frame_index between {{ tokens }}.start_frame and {{ tokens }}.end_frame
{%- endmacro %}
