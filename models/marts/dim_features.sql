with

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

action_units as (
    select * from {{ ref('facs_action_units') }}
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

final as (
    select
        feature_counts.feature,
        feature_counts.feature_kind,
        feature_counts.field_name,
        feature_counts.value_name,
        case
            when feature_counts.feature_kind = 'au' then feature_counts.field_name
        end as au_code,
        action_units_per_feature.action_units,
        feature_counts.n_frames,
        feature_counts.n_utterances,
        feature_counts.n_stories,
    from feature_counts
    left join action_units_per_feature
        on feature_counts.feature = action_units_per_feature.feature
)

select * from final
