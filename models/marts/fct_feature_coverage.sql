{#-
    Which files could show a feature at all: those that code the SignStream field it comes
    from (at least one annotation of the field, transitions included).
      SignStream codes (facial, head, grammatical, body, other)  their own field
      au                                                       any field the seed maps to it
      pos, gloss                                               `main gloss` (one per sign)
      lexical                                                  the field its labels come from
                                                               at var lexical_scope: `main
                                                               gloss` (sign) or `English
                                                               translation` (utterance)
      fer                                                      files with FER frames
      face                                                     files with face measures
                                                               (fct_face_measures)
    With dbt var coverage_level `value` (default `field`), a SignStream code (and an AU, from
    the codes the seed maps to it) is covered only in the files whose annotators used that
    very value at least once: for a value introduced late in a corpus's coding (NCSLGR's
    `eye gaze=to addressee`, used in 9 of the 38 files that code eye gaze), the other files'
    frames are not counted as evidence of its absence. pos, gloss, lexical, fer and face coverage do
    not change.
-#}
{%- set lexical_field = 'main gloss' if setting('lexical_scope') == 'sign' else 'English translation' -%}
{%- set coverage_level = setting('coverage_level') -%}

with

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

annotations as (
    select * from {{ ref('int_annotations_resolved') }}
),

action_units as (
    select * from {{ ref('facs_action_units') }}
),

fer_features as (
    select * from {{ ref('int_frame_features_from_fer') }}
),

face_measures as (
    select * from {{ ref('fct_face_measures') }}
),

files as (
    select * from {{ ref('int_source_files_named') }}
),

features as (
    select
        feature,
        any_value(feature_kind) as feature_kind,
        any_value(field_name) as field_name,
    from frame_features
    group by feature
),

coded_fields as (
    select distinct
        source_file,
        field_name,
    from annotations
),

signstream_feature_fields as (
    select
        feature,
        feature_kind,
        case
            when feature_kind in ('pos', 'gloss') then 'main gloss'
            when feature_kind = 'lexical' then '{{ lexical_field }}'
            else field_name
        end as coding_field,
    from features
    where feature_kind not in ('au', 'fer', 'face')
),

action_unit_feature_fields as (
    select distinct
        features.feature,
        features.feature_kind,
        action_units.field as coding_field,
    from features
    inner join action_units
        on features.feature = action_units.au_feature
    where features.feature_kind = 'au'
),

feature_fields as (
    select * from signstream_feature_fields
    union all
    select * from action_unit_feature_fields
),

field_coverage as (
    select distinct
        feature_fields.feature,
        feature_fields.feature_kind,
        coded_fields.source_file,
    from feature_fields
    inner join coded_fields
        on feature_fields.coding_field = coded_fields.field_name
),

used_values as (
    select distinct
        source_file,
        feature,
    from annotations
    where feature is not null
),

value_coverage as (
    select distinct
        features.feature,
        features.feature_kind,
        used_values.source_file,
    from features
    inner join used_values
        on features.feature = used_values.feature
    where features.feature_kind not in ('au', 'fer', 'face', 'pos', 'gloss', 'lexical')

    union all

    select distinct
        features.feature,
        features.feature_kind,
        used_values.source_file,
    from features
    inner join action_units
        on features.feature = action_units.au_feature
    inner join used_values
        on action_units.feature = used_values.feature
    where features.feature_kind = 'au'

    union all

    select * from field_coverage
    where feature_kind in ('pos', 'gloss', 'lexical')
),

measured_files as (
    select distinct 'fer' as feature_kind, source_file from fer_features
    union all
    select distinct 'face' as feature_kind, source_file from face_measures
),

measured_coverage as (
    select
        features.feature,
        features.feature_kind,
        measured_files.source_file,
    from features
    inner join measured_files
        on features.feature_kind = measured_files.feature_kind
),

unioned as (
    select * from {{ coverage_level }}_coverage
    union all
    select * from measured_coverage
),

final as (
    select
        unioned.feature,
        unioned.feature_kind,
        unioned.source_file,
        files.story,
    from unioned
    inner join files
        on unioned.source_file = files.source_file
)

select * from final
