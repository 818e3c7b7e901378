with

files as (
    select * from {{ ref('stg_signstream__files') }}
),

final as (
    select
        source_file,
        story,
        content_hash,
        n_bytes,
        format,
        frames_per_second,
    from files
)

select * from final
