with

utterances as (
    select * from {{ ref('dim_utterances') }}
),

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

utterance_counts as (
    select
        source_file,
        utterance_id,
        feature,
        any_value(feature_kind) as feature_kind,
        count(*) as n_frames_active,
    from frame_features
    group by source_file, utterance_id, feature
),

final as (
    select
        utterance_counts.source_file,
        utterances.story,
        utterance_counts.utterance_id,
        utterances.signer_id,
        utterance_counts.feature,
        utterance_counts.feature_kind,
        utterance_counts.n_frames_active,
        utterance_counts.n_frames_active / utterances.n_frames as share_active,
    from utterance_counts
    inner join utterances using (source_file, utterance_id)
)

select * from final
