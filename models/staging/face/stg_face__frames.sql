with

source as (
    select * from {{ source('face', 'face_frames') }}
),

final as (
    select
        media_file,
        media_hash,
        source as face_source,
        source_file,
        model_hash,
        video_frame,
        time_ms,
        face_id,
        face_found,
        confidence,
        inter_ocular_px,
        head_pitch_deg,
        head_yaw_deg,
        head_roll_deg,
        brow_inner_left,
        brow_inner_right,
        brow_outer_left,
        brow_outer_right,
        eye_aperture_left,
        eye_aperture_right,
        mouth_opening,
        scores,
    from source
)

select * from final
