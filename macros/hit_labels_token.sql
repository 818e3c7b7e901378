{#-
    True when lexicon hit `hit` puts its label on sign token `token` (both relation aliases
    with source_file, utterance_id, annotation_id, and `scope` on the hit): at scope `sign`
    the hit is on the token's own main-gloss annotation, at scope `utterance` on its
    utterance's translation. Never by frames shared with a neighbouring sign.
-#}
{% macro hit_labels_token(hit, token) -%}
    {{ hit }}.source_file = {{ token }}.source_file
    and {{ hit }}.utterance_id = {{ token }}.utterance_id
    and ({{ hit }}.scope = 'utterance' or {{ hit }}.annotation_id = {{ token }}.annotation_id)
{%- endmacro %}
