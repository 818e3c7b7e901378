{#-
    One row per corpus file with its story name: the file list every mart names files and
    stories from (dim_source_files shows it), so no mart reads staging.
-#}
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
