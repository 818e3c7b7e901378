with

source as (
    select * from {{ source('signstream', 'signstream_media_files') }}
),

final as (
    select
        source_file,
        media_id,
        legacy_path,
        regexp_extract(legacy_path, '[^:]*$') as media_file_name,
        coalesce(
            nullif(regexp_extract(lower(legacy_path), '(master|slave[0-9]+)', 1), ''),
            'unknown'
        ) as camera_view,
    from source
)

select * from final
