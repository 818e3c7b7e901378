{#-
    A span's frames are the frames the frame expansion gives it (clipped to its utterance),
    so span, token and frame counts agree by construction.
-#}
with

annotations as (
    select * from {{ ref('int_annotations_resolved') }}
),

annotation_frames as (
    select * from {{ ref('int_annotations_expanded_to_frames') }}
),

span_frames as (
    select
        source_file,
        annotation_id,
        min(frame_index) as start_frame,
        max(frame_index) as end_frame,
        count(*) as n_frames,
    from annotation_frames
    group by source_file, annotation_id
),

final as (
    select
        annotations.source_file,
        annotations.story,
        annotations.utterance_id,
        annotations.annotation_id,
        annotations.participant_id,
        annotations.signer_id,
        annotations.field_name,
        annotations.feature_kind,
        annotations.feature,
        annotations.value_name,
        annotations.annotation_text,
        annotations.is_transition,
        annotations.start_ms,
        annotations.end_ms,
        span_frames.start_frame,
        span_frames.end_frame,
        span_frames.n_frames,
    from annotations
    inner join span_frames using (source_file, annotation_id)
)

select * from final
