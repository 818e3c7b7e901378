with

utterance_frames as (
    select * from {{ ref('int_utterances_expanded_to_frames') }}
),

final as (
    select
        source_file,
        story,
        utterance_id,
        frame_index,
        participant_id,
        signer_id,
        utterance_time_ms,
        media_time_ms,
        media_frame,
        utterance_n_frames,
        frames_per_second,
    from utterance_frames
)

select * from final
