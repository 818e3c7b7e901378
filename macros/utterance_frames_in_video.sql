{#-
    Each utterance frame a video shows, placed in the video frame its start in the media
    (`media_time_ms`) falls in at the video's own frame rate, by `ms_to_frame` (so the
    build's frame convention): the one statement of that link, for FER
    (int_fer_frames_linked_to_utterances) and the face measures
    (int_face_frames_linked_to_utterances). A video without a positive frame rate places
    no frame.

    `videos` is a relation with one row per video (more with `keys`), its file name in
    column `video_file` and its rate in column `fps`; the caller's CTEs `media_utterances`
    (int_media_files_joined_to_utterances) and `utterance_frames`
    (int_utterances_expanded_to_frames) give the media files and frames. Rows: the video
    file, `keys`, `video_frame`, source_file, utterance_id and utterance_frame_index.
-#}
{% macro utterance_frames_in_video(videos, video_file, fps, keys=[]) %}
    select
        {{ videos }}.{{ video_file }},
        {% for key in keys -%}
        {{ videos }}.{{ key }},
        {% endfor -%}
        cast(
            {{ ms_to_frame('utterance_frames.media_time_ms', videos ~ '.' ~ fps) }} as integer
        ) as video_frame,
        utterance_frames.source_file,
        utterance_frames.utterance_id,
        utterance_frames.frame_index as utterance_frame_index,
    from {{ videos }}
    inner join media_utterances
        on {{ videos }}.{{ video_file }} = media_utterances.media_file_name
    inner join utterance_frames using (source_file, utterance_id)
    where {{ videos }}.{{ fps }} > 0
{% endmacro %}
