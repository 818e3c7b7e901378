with

source as (
    select * from {{ source('signstream', 'signstream_files') }}
),

final as (
    select
        source_file,
        regexp_replace(source_file, '\.(xml|eaf)$', '', 'i') as story,
        content_hash,
        source_path,
        n_bytes,
        database_version,
        signstream_version,
        format,
        frames_per_second,
    from source
)

select * from final
