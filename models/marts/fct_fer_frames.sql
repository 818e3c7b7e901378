{#-
    FER results joined to the corpus. One detector mode (var `fer_mode`), the latest
    successful analysis of each video file, every frame kept (face-less frames too).
    Video frame v covers [v·1000/fps, (v+1)·1000/fps) ms of the media; an utterance frame
    belongs to the video frame its start (`fct_frames.media_time_ms`) falls in (macro
    video_frame_at, shared with fct_face_frames).
-#}
{%- set fer_mode = var('fer_mode') -%}
{%- if fer_mode not in ['exact', 'fast'] -%}
    {{ exceptions.raise_compiler_error("var fer_mode must be exact or fast, not " ~ fer_mode) }}
{%- endif -%}

with

fer_videos as (
    select * from {{ ref('stg_fer__videos') }}
),

fer_frames as (
    select * from {{ ref('stg_fer__frames') }}
),

media_files as (
    select * from {{ ref('stg_signstream__media_files') }}
),

utterance_media as (
    select * from {{ ref('stg_signstream__utterance_media') }}
),

utterance_frames as (
    select * from {{ ref('fct_frames') }}
),

latest_videos as (
    select
        video_file,
        video_hash,
        model_hash,
        detector_settings,
        fer_mode,
        fps,
    from fer_videos
    where status = 'ok'
        and fer_mode = '{{ fer_mode }}'
    qualify row_number() over (
        partition by video_file
        order by analysed_at desc, video_hash
    ) = 1
),

camera_views as (
    select
        media_file_name as video_file,
        min(camera_view) as camera_view,
    from media_files
    group by media_file_name
),

-- Each utterance frame of a media file, placed in the video frame its start falls in.
utterance_frames_in_video as (
    select
        latest_videos.video_file,
        {{ video_frame_at('utterance_frames.media_time_ms', 'latest_videos.fps') }}
            as frame_index,
        utterance_frames.source_file,
        utterance_frames.utterance_id,
        utterance_frames.frame_index as utterance_frame_index,
    from latest_videos
    inner join media_files
        on latest_videos.video_file = media_files.media_file_name
    inner join utterance_media using (source_file, media_id)
    inner join utterance_frames using (source_file, utterance_id)
),

video_frames as (
    select
        latest_videos.video_file,
        fer_frames.video_hash,
        fer_frames.frame_index,
        fer_frames.time_ms,
        fer_frames.face_index,
        fer_frames.box_x,
        fer_frames.box_y,
        fer_frames.box_w,
        fer_frames.box_h,
        fer_frames.angry,
        fer_frames.disgust,
        fer_frames.fear,
        fer_frames.happy,
        fer_frames.sad,
        fer_frames.surprise,
        fer_frames.neutral,
        fer_frames.top_emotion,
        fer_frames.has_face,
        latest_videos.fps,
        fer_frames.fer_mode,
        fer_frames.model_hash,
        fer_frames.detector_settings,
    from fer_frames
    inner join latest_videos using (video_hash, model_hash, detector_settings)
),

final as (
    select
        video_frames.video_file,
        video_frames.video_hash,
        camera_views.camera_view,
        video_frames.frame_index,
        video_frames.time_ms,
        video_frames.face_index,
        video_frames.box_x,
        video_frames.box_y,
        video_frames.box_w,
        video_frames.box_h,
        video_frames.angry,
        video_frames.disgust,
        video_frames.fear,
        video_frames.happy,
        video_frames.sad,
        video_frames.surprise,
        video_frames.neutral,
        video_frames.top_emotion,
        video_frames.has_face,
        utterance_frames_in_video.source_file,
        utterance_frames_in_video.utterance_id,
        utterance_frames_in_video.utterance_frame_index,
        video_frames.fps,
        video_frames.fer_mode,
        video_frames.model_hash,
        video_frames.detector_settings,
    from video_frames
    left join camera_views using (video_file)
    left join utterance_frames_in_video using (video_file, frame_index)
)

select * from final
