{#-
    The columns that name the corpus's units, written once: a frame, a sign token with where
    it stands, and the unit a lexicon look-up read a word from. Each macro returns the list
    of names; `column_list` renders one as a select list.
-#}

{#- A frame: the key of every frame-grain row (fct_frames, the frame feature sources). -#}
{% macro frame_key() -%}
    {{ return(['source_file', 'utterance_id', 'frame_index']) }}
{%- endmacro %}

{#- A sign token and where it stands: the columns every per-token fact leads with. -#}
{% macro sign_token_columns() -%}
    {{ return(['sign_token_id', 'source_file', 'story', 'utterance_id', 'signer_id']) }}
{%- endmacro %}

{#-
    The unit a lexicon look-up (raw lexicon_hits, lexicon_lookups) read its words from: the
    sign's main-gloss annotation at scope `sign`, the utterance's translation at scope
    `utterance` (macro hit_labels_token matches a token to it).
-#}
{% macro lexicon_unit_key() -%}
    {{ return(['source_file', 'utterance_id', 'annotation_id', 'scope']) }}
{%- endmacro %}

{#- `names` as a select list, each qualified by `relation` when one is given: a.x, a.y -#}
{% macro column_list(names, relation=none) -%}
    {%- for name in names -%}
        {{ relation ~ '.' if relation }}{{ name }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
