with

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

final as (
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
)

select * from final
