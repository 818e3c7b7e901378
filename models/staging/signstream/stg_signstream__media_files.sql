with

source as (
    select * from {{ source('signstream', 'signstream_media_files') }}
),

final as (
    select
        source_file,
        media_id,
        legacy_path,
        {{ media_file_name('legacy_path') }} as media_file_name,
        {{ camera_view('legacy_path') }} as camera_view,
    from source
)

select * from final
