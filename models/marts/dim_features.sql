with

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

action_units as (
    select * from {{ ref('facs_action_units') }}
),

field_kinds as (
    select * from {{ ref('signstream_field_kinds') }}
),

kind_roles as (
    select * from {{ ref('feature_kind_roles') }}
),

coverage as (
    select * from {{ ref('fct_feature_coverage') }}
),

frames as (
    select * from {{ ref('fct_frames') }}
),

feature_counts as (
    select
        feature,
        min(feature_kind) as feature_kind,
        min(field_name) as field_name,
        -- An action unit's value is its intensity, which varies by frame: keep the strongest
        -- (FACS letters sort A < E), so the mart is a function of the data, not scan order.
        max(value_name) as value_name,
        count(*) as n_frames,
        count(distinct (source_file, utterance_id)) as n_utterances,
        count(distinct source_file) as n_stories,
    from frame_features
    group by feature
),

action_units_per_feature as (
    select
        feature,
        list(distinct au_code order by au_code) as action_units,
    from action_units
    where au_code is not null
    group by feature
),

{#-
    A feature's role, decided in the seeds: its field's row in signstream_field_kinds, else
    its kind's row in feature_kind_roles; an action unit takes the role of the fields it is
    re-coded from (face when any of them is face: AU50 speech, from mouthing only, is
    lexical).
-#}
field_roles as (
    select
        field_name,
        role,
    from field_kinds
),

action_unit_roles as (
    select
        action_units.au_feature as feature,
        if(bool_or(field_roles.role = 'face'), 'face', min(field_roles.role)) as role,
    from action_units
    inner join field_roles on action_units.field = field_roles.field_name
    where action_units.au_feature is not null
    group by action_units.au_feature
),

file_frames as (
    select
        source_file,
        count(*) as n_frames,
    from frames
    group by source_file
),

coverage_counts as (
    select
        coverage.feature,
        count(*) as n_files_coded,
        cast(sum(file_frames.n_frames) as bigint) as n_frames_coded,
    from coverage
    inner join file_frames
        on coverage.source_file = file_frames.source_file
    group by coverage.feature
),

final as (
    select
        feature_counts.feature,
        feature_counts.feature_kind,
        case
            when feature_counts.feature_kind in ({{ quoted(signstream_feature_kinds()) }})
                then 'signstream'
            else feature_counts.feature_kind
        end as family,
        coalesce(action_unit_roles.role, field_roles.role, kind_roles.role, 'other') as role,
        feature_counts.field_name,
        feature_counts.value_name,
        case
            when feature_counts.feature_kind = 'au' then feature_counts.field_name
        end as au_code,
        action_units_per_feature.action_units,
        feature_counts.n_frames,
        feature_counts.n_utterances,
        feature_counts.n_stories,
        coverage_counts.n_files_coded,
        coverage_counts.n_frames_coded,
    from feature_counts
    left join action_units_per_feature using (feature)
    left join coverage_counts using (feature)
    left join action_unit_roles using (feature)
    left join field_roles
        on feature_counts.field_name = field_roles.field_name
        and feature_counts.feature_kind not in ('au', 'lexical', 'fer', 'face')
    left join kind_roles
        on feature_counts.feature_kind = kind_roles.feature_kind
)

select * from final
