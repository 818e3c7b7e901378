with

files as (
    select * from {{ ref('int_source_files_named') }}
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
