{#-
    Every frame of every utterance with its times: the frame spine that fct_frames shows and
    the FER link (int_fer_frames_linked_to_utterances) places in the videos.
-#}
with

utterances as (
    select * from {{ ref('int_utterances_joined_to_signers') }}
),

frames as (
    select
        source_file,
        story,
        utterance_id,
        participant_id,
        signer_id,
        start_ms,
        start_media_frame,
        n_frames,
        frames_per_second,
        unnest(range(n_frames)) as frame_index,
    from utterances
),

final as (
    select
        source_file,
        story,
        utterance_id,
        frame_index,
        participant_id,
        signer_id,
        {{ frame_to_ms('frame_index') }} as utterance_time_ms,
        start_ms + {{ frame_to_ms('frame_index') }} as media_time_ms,
        start_media_frame + frame_index as media_frame,
        n_frames as utterance_n_frames,
        frames_per_second,
    from frames
)

select * from final
