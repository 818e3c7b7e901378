with

source as (
    select * from {{ source('fer', 'fer_frames') }}
),

final as (
    select
        video_file,
        video_hash,
        model_hash,
        detector_settings,
        mode as fer_mode,
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
    from source
)

select * from final
