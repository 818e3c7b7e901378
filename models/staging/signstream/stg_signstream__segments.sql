with

source as (
    select * from {{ source('signstream', 'signstream_segments') }}
),

final as (
    select
        source_file,
        utterance_id,
        participant_id,
        is_primary,
    from source
)

select * from final
