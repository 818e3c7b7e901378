with

source as (
    select * from {{ source('fer', 'fer_videos') }}
),

final as (
    select
        video_file,
        video_path,
        video_hash,
        model_hash,
        detector_settings,
        mode as fer_mode,
        n_frames,
        fps,
        width,
        height,
        status,
        error,
        elapsed_s,
        analysed_at,
    from source
)

select * from final
