with

source as (
    select * from {{ source('signstream', 'signstream_utterances') }}
),

final as (
    select
        source_file,
        utterance_id,
        start_ms,
        end_ms,
        end_ms - start_ms as duration_ms,
        {{ ms_to_frame('start_ms') }} as start_media_frame,
        {{ utterance_n_frames('end_ms - start_ms') }} as n_frames,
        excerpt,
    from source
)

select * from final
