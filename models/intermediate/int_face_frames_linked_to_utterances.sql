{#-
    Face measures joined to the corpus, every source and face kept. Each (media file,
    source) is one video's measures. Its frame rate comes from its own frames' times: 1000 /
    the least-squares ms per frame; trackers write times rounded to the ms, so a short clip
    at 30 fps measures 29.98, and a rate within what 2 ms over the clip's span can explain
    of the corpus's own rate for that media file (the utterances' frames_per_second) is taken
    to be that rate; otherwise the measured rate, to 2 decimals. An utterance frame belongs
    to the video frame its start in the media maps to at the video's rate, by `ms_to_frame`
    (the build's frame convention), as in the FER link (macro utterance_frames_in_video). The mart fct_face_frames shows
    these rows. The signer's face is the face id found on the most frames of that
    video (ties: the lowest id): the face tracked across the video, never the largest face
    of one frame.
-#}
with

face_frames as (
    select * from {{ ref('stg_face__frames') }}
),

media_utterances as (
    select * from {{ ref('int_media_files_joined_to_utterances') }}
),

utterance_frames as (
    select * from {{ ref('int_utterances_expanded_to_frames') }}
),

measured_rates as (
    select
        media_file,
        face_source,
        1000.0 / nullif(regr_slope(time_ms, video_frame), 0) as measured_fps,
        max(time_ms) - min(time_ms) as span_ms,
    from face_frames
    group by media_file, face_source
),

corpus_rates as (
    select
        media_utterances.media_file_name as media_file,
        min(utterance_frames.frames_per_second) as corpus_fps,
    from media_utterances
    inner join utterance_frames using (source_file, utterance_id)
    group by media_utterances.media_file_name
),

videos as (
    select
        measured_rates.media_file,
        measured_rates.face_source,
        case
            when abs(measured_rates.measured_fps - corpus_rates.corpus_fps)
                <= corpus_rates.corpus_fps * 2.0 / measured_rates.span_ms
                then corpus_rates.corpus_fps
            else round(measured_rates.measured_fps, 2)
        end as fps,
    from measured_rates
    left join corpus_rates using (media_file)
),

signer_faces as (
    select
        media_file,
        face_source,
        face_id,
    from face_frames
    where face_found
    group by media_file, face_source, face_id
    qualify row_number() over (
        partition by media_file, face_source
        order by count(*) desc, face_id
    ) = 1
),

camera_views as (
    select
        media_file_name as media_file,
        min(camera_view) as camera_view,
    from media_utterances
    group by media_file_name
),

utterance_frames_in_video as (
    {{- utterance_frames_in_video('videos', 'media_file', 'fps', keys=['face_source']) -}}
),

final as (
    select
        face_frames.media_file,
        face_frames.face_source,
        camera_views.camera_view,
        face_frames.video_frame,
        face_frames.time_ms,
        face_frames.face_id,
        signer_faces.face_id is not null as is_signer,
        face_frames.face_found,
        face_frames.confidence,
        face_frames.inter_ocular_px,
        face_frames.head_pitch_deg,
        face_frames.head_yaw_deg,
        face_frames.head_roll_deg,
        face_frames.brow_inner_left,
        face_frames.brow_inner_right,
        face_frames.brow_outer_left,
        face_frames.brow_outer_right,
        (face_frames.brow_inner_left + face_frames.brow_inner_right
            + face_frames.brow_outer_left + face_frames.brow_outer_right) / 4 as brow_height,
        face_frames.eye_aperture_left,
        face_frames.eye_aperture_right,
        (face_frames.eye_aperture_left + face_frames.eye_aperture_right) / 2 as eye_aperture,
        face_frames.mouth_opening,
        face_frames.scores,
        utterance_frames_in_video.source_file,
        utterance_frames_in_video.utterance_id,
        utterance_frames_in_video.utterance_frame_index,
        videos.fps,
        face_frames.source_file as face_source_file,
        face_frames.media_hash,
        face_frames.model_hash,
    from face_frames
    inner join videos using (media_file, face_source)
    left join signer_faces using (media_file, face_source, face_id)
    left join camera_views using (media_file)
    left join utterance_frames_in_video using (media_file, face_source, video_frame)
)

select * from final
