{#-
    The FER emotion of each utterance frame as a feature `fer:<top emotion>`, from the
    largest face (box area) in the video frame that shows it, in camera view var `fer_view`
    (default master). Frames without a face, or outside every analysed video, get none.
    Reads int_fer_frames_linked_to_utterances, the one place video frames map to
    utterance frames.
-#}
with

fer_frames as (
    select * from {{ ref('int_fer_frames_linked_to_utterances') }}
),

faces_on_utterance_frames as (
    select
        source_file,
        utterance_id,
        utterance_frame_index,
        video_file,
        frame_index,
        face_index,
        box_w * box_h as box_area,
        top_emotion,
    from fer_frames
    where has_face
        and utterance_id is not null
        and camera_view = '{{ setting("fer_view") }}'
),

largest_face as (
    select * from faces_on_utterance_frames
    qualify row_number() over (
        partition by source_file, utterance_id, utterance_frame_index
        order by box_area desc, video_file, frame_index, face_index
    ) = 1
),

final as (
    select
        source_file,
        utterance_id,
        utterance_frame_index as frame_index,
        'fer:' || top_emotion as feature,
        'fer' as feature_kind,
        'fer' as field_name,
        top_emotion as value_name,
    from largest_face
)

select * from final
