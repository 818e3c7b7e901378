{#- The FER results joined to the corpus (int_fer_frames_linked_to_utterances), for readers. -#}
with

fer_frames as (
    select * from {{ ref('int_fer_frames_linked_to_utterances') }}
),

final as (
    select
        video_file,
        video_hash,
        camera_view,
        frame_index,
        time_ms,
        face_index,
        box_x,
        box_y,
        box_w,
        box_h,
        angry,
        disgust,
        fear,
        happy,
        sad,
        surprise,
        neutral,
        top_emotion,
        has_face,
        source_file,
        utterance_id,
        utterance_frame_index,
        fps,
        fer_mode,
        model_hash,
        detector_settings,
    from fer_frames
)

select * from final
