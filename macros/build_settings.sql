{#-
    The build settings: every dbt var a build reads, and what each may be. Models read a var
    through `setting(name)`, which checks it against the rule here and stops the build with a
    compiler error naming the var, its value and what it may be; `dim_build_settings` records
    them all. This file is the one place on the dbt side the settings' choices are written.
-#}

{#- SignStream's own feature kinds: the kinds whose family is `signstream`. -#}
{% macro signstream_feature_kinds() -%}
    {{ return(['facial', 'head', 'grammatical', 'pos', 'body']) }}
{%- endmacro %}

{#- Every feature kind (seed feature_kind_roles gives each its role). -#}
{% macro feature_kinds() -%}
    {{ return(signstream_feature_kinds() + ['au', 'fer', 'face', 'gloss', 'text', 'lexical', 'other']) }}
{%- endmacro %}

{#- Every feature family (dim_features.family): SignStream's kinds together, the others each alone. -#}
{% macro feature_families() -%}
    {{ return(['signstream'] + feature_kinds() | reject('in', signstream_feature_kinds()) | list) }}
{%- endmacro %}

{#- Every feature role (dim_features.role; the seeds give each kind and field one). -#}
{% macro feature_roles() -%}
    {{ return(['face', 'body', 'grammar', 'lexical', 'label', 'other']) }}
{%- endmacro %}

{#- The face measures that get a robust z-score (int_face_measures_scored) and may be thresholded. -#}
{% macro face_z_measures() -%}
    {{ return(['brow_height', 'eye_aperture', 'mouth_opening',
               'head_pitch_deg', 'head_yaw_deg', 'head_roll_deg']) }}
{%- endmacro %}

{#- Where face measures come from (raw.face_frames.source; signaffect/face_engine/schema.py SOURCES). -#}
{% macro face_sources() -%}
    {{ return(['mediapipe', 'openface_csv', 'mediapipe_csv']) }}
{%- endmacro %}

{#-
    Each setting's rule: `one_of` (a value of the list), `list_of` (a list of values of it,
    or a comma-separated string of them), `flag` (true or false), `at_least` (an integer),
    `grains` (an integer of at least 1 for each of frame, sign and utterance), `above` (a
    number greater than it), `directions_of` (a mapping of names to {measure, direction}
    with the measure one of the list and the direction 1 or -1) or `text`.
-#}
{% macro build_setting_rules() -%}
    {%- set kinds = feature_kinds() -%}
    {{ return({
        'frame_convention': {'one_of': ['floor', 'nearest', 'study']},
        'lexical_scope': {'one_of': ['sign', 'utterance']},
        'coverage_level': {'one_of': ['field', 'value']},
        'lexical_min_frames': {'at_least': 1},
        'keep_question_words': {'flag': true},
        'keep_description_labels': {'flag': true},
        'keep_negated_labels': {'flag': true},
        'negation_marker': {'text': true},
        'apply_label_review': {'flag': true},
        'comparison_set': {'one_of': ['eligible', 'all']},
        'cooccurrence_feature_kinds': {'list_of': kinds},
        'cooccurrence_min_frames': {'at_least': 1},
        'association_feature_families': {'list_of': feature_families()},
        'association_cluster_unit': {'one_of': ['story', 'signer', 'utterance']},
        'association_resamples': {'at_least': 1},
        'association_seed': {'at_least': 0},
        'association_min_support': {'grains': ['frame', 'sign', 'utterance']},
        'association_min_clusters': {'at_least': 1},
        'fer_mode': {'one_of': ['exact', 'fast']},
        'fer_view': {'text': true},
        'face_view': {'text': true},
        'face_sources': {'list_of': face_sources()},
        'face_min_frames': {'at_least': 1},
        'face_threshold_z': {'above': 0},
        'face_features': {'directions_of': face_z_measures()},
        'ml_input_kinds': {'list_of': kinds},
        'ml_input_roles': {'list_of': feature_roles()},
        'ml_target_kind': {'one_of': kinds},
        'timing_feature_kinds': {'list_of': kinds},
    }) }}
{%- endmacro %}

{#- The value of dbt var `name`, checked against its rule (lists always as lists). A
    caller reading every setting passes `rules` (build_setting_rules()) made once: each
    making of them is dozens of Jinja macro calls. -#}
{% macro setting(name, rules=none) -%}
    {%- set rule = (rules or build_setting_rules())[name] -%}
    {%- set value = var(name) -%}
    {%- if 'list_of' in rule and value is string -%}
        {%- set value = value.split(',') | map('trim') | list -%}
    {%- endif -%}
    {%- set problem = setting_problem(value, rule) -%}
    {%- if problem -%}
        {{ exceptions.raise_compiler_error(
            "dbt var " ~ name ~ " is " ~ tojson(value) ~ ": it must be " ~ problem) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- What a value breaking `rule` must be instead, or '' when it keeps it. -#}
{% macro setting_problem(value, rule) -%}
    {%- if 'one_of' in rule and value not in rule['one_of'] -%}
        {{ return('one of ' ~ rule['one_of'] | join(', ')) }}
    {%- elif 'list_of' in rule and (value is string or value is not iterable or value | length == 0
            or value | reject('in', rule['list_of']) | list | length > 0) -%}
        {{ return('a non-empty list of ' ~ rule['list_of'] | join(', ')) }}
    {%- elif 'flag' in rule and value is not boolean -%}
        {{ return('true or false') }}
    {%- elif 'at_least' in rule and (value is not integer or value is boolean
            or value < rule['at_least']) -%}
        {{ return('an integer of at least ' ~ rule['at_least']) }}
    {%- elif 'grains' in rule and (value is not mapping
            or value.keys() | sort | list != rule['grains'] | sort | list
            or value.values() | reject('integer') | list | length > 0
            or value.values() | select('lt', 1) | list | length > 0) -%}
        {{ return('a mapping of ' ~ rule['grains'] | join(', ') ~ ' to integers of at least 1') }}
    {%- elif 'above' in rule and (value is not number or value is boolean
            or value <= rule['above']) -%}
        {{ return('a number greater than ' ~ rule['above']) }}
    {%- elif 'directions_of' in rule and (value is not mapping or value | length == 0
            or value.values() | reject('mapping') | list | length > 0
            or value.values() | map('list') | map('sort') | map('join', ',')
                | reject('eq', 'direction,measure') | list | length > 0
            or value.values() | map(attribute='measure')
                | reject('in', rule['directions_of']) | list | length > 0
            or value.values() | map(attribute='direction') | reject('in', [1, -1])
                | list | length > 0) -%}
        {{ return('a mapping of names to {measure, direction}, the measure one of '
                  ~ rule['directions_of'] | join(', ') ~ ' and the direction 1 or -1') }}
    {%- elif 'text' in rule and (value is not string or value | trim == '') -%}
        {{ return('a non-empty text') }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{#- Values as a SQL list of string literals: 'a', 'b'. -#}
{% macro quoted(values) -%}
    {%- for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor -%}
{%- endmacro %}

{#- A setting's value as a SQL literal: text, boolean, integer, text list or struct. -#}
{% macro setting_literal(value) -%}
    {%- if value is boolean or value is number -%}
        {{ value | string | lower }}
    {%- elif value is string -%}
        '{{ value | replace("'", "''") }}'
    {%- elif value is mapping -%}
        { {%- for key, item in value | dictsort %}'{{ key }}': {{ setting_literal(item) }}{{ ', ' if not loop.last }}{% endfor -%} }
    {%- else -%}
        [{{ quoted(value) }}]::varchar[]
    {%- endif -%}
{%- endmacro %}

{#- The names a list of this file gives: a build setting's choices (one_of, list_of) or a
    macro's list (`feature_kinds`, `feature_roles`, ...), for tests that check a column
    against it without restating it. -#}
{% macro names_of(names) -%}
    {%- set rule = build_setting_rules().get(names, {}) -%}
    {{ return(rule.get('one_of') or rule.get('list_of') or context[names]()) }}
{%- endmacro %}
