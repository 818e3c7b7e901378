with

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

action_units as (
    select * from {{ ref('facs_action_units') }}
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
        any_value(feature_kind) as feature_kind,
        any_value(field_name) as field_name,
        any_value(value_name) as value_name,
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
            when feature_counts.feature_kind in ('facial', 'head', 'grammatical', 'pos', 'body')
                then 'signstream'
            else feature_counts.feature_kind
        end as family,
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
    left join action_units_per_feature
        on feature_counts.feature = action_units_per_feature.feature
    left join coverage_counts
        on feature_counts.feature = coverage_counts.feature
)

select * from final
