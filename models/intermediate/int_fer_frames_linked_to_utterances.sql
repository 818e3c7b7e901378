{#-
    FER results joined to the corpus. One detector mode (var `fer_mode`), the latest
    successful analysis of each video file, every frame kept (face-less frames too).
    An utterance frame shows in the video frame its start in the media
    (`int_utterances_expanded_to_frames.media_time_ms`) maps to at the video's frame rate,
    by `ms_to_frame` and so the build's frame convention (macro utterance_frames_in_video): with floor (default), video
    frame v covers [v·1000/fps, (v+1)·1000/fps) ms of the media.
-#}
{%- set fer_mode = setting('fer_mode') -%}

with

fer_videos as (
    select * from {{ ref('stg_fer__videos') }}
),

fer_frames as (
    select * from {{ ref('stg_fer__frames') }}
),

media_utterances as (
    select * from {{ ref('int_media_files_joined_to_utterances') }}
),

utterance_frames as (
    select * from {{ ref('int_utterances_expanded_to_frames') }}
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
    from media_utterances
    group by media_file_name
),

utterance_frames_in_video as (
    {{- utterance_frames_in_video('latest_videos', 'video_file', 'fps') -}}
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
    left join utterance_frames_in_video
        on video_frames.video_file = utterance_frames_in_video.video_file
        and video_frames.frame_index = utterance_frames_in_video.video_frame
)

select * from final
