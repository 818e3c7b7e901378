{#-
    The lexical item of a gloss: the gloss without the modifiers that do not change the sign
    (leading hand / handshape "(1h)", "(2h)", alternation "alt.", start locus "i:", "neu:";
    trailing end locus ":j", ":1p" and repetition "+", "++"), so `(1h)LOVE` and `LOVE` are one
    item. The same modifiers `ingest.gloss_normalize` strips before a lexicon lookup.
-#}
{% macro gloss_item(gloss) -%}
    regexp_replace(
        regexp_replace({{ gloss }}, '^(\([^()]*\)|alt\.|([a-z]|neu|[0-9]+p):)+', ''),
        '(:[a-z0-9/]+|\++)+$', ''
    )
{%- endmacro %}
