with

source as (
    select * from {{ source('signstream', 'signstream_annotations') }}
),

final as (
    select
        source_file,
        annotation_id,
        utterance_id,
        participant_id,
        field_id,
        start_ms,
        end_ms,
        {{ ms_to_frame('start_ms') }} as start_frame,
        {{ ms_to_frame('end_ms') }} as end_frame,
        value_id,
        text as annotation_text,
        frames_per_second,
    from source
)

select * from final
