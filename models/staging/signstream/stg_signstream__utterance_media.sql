with

source as (
    select * from {{ source('signstream', 'signstream_utterance_media') }}
),

final as (
    select
        source_file,
        utterance_id,
        media_ordinal,
        media_id,
    from source
)

select * from final
