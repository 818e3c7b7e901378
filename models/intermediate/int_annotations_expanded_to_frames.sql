with

annotations as (
    select * from {{ ref('int_annotations_resolved') }}
),

clipped as (
    select
        *,
        greatest(start_frame, 0) as first_frame,
        least(end_frame, utterance_n_frames - 1) as last_frame,
    from annotations
),

expanded as (
    select
        source_file,
        utterance_id,
        unnest(range(first_frame, last_frame + 1)) as frame_index,
        annotation_id,
        participant_id,
        field_name,
        feature_kind,
        value_name,
        annotation_text,
        feature,
        is_transition,
        transition,
    from clipped
    where last_frame >= first_frame
),

final as (
    select * from expanded
)

select * from final
