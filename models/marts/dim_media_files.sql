{#-
    The media files of each story, for the ELAN export's linked media (the read side never
    reads staging): int_media_files_joined_to_utterances counted.
-#}
with

media_utterances as (
    select * from {{ ref('int_media_files_joined_to_utterances') }}
),

files as (
    select * from {{ ref('int_source_files_named') }}
),

media_files as (
    select
        source_file,
        media_id,
        media_file_name,
        camera_view,
        count(distinct utterance_id) as n_utterances,
        min(media_ordinal) as first_ordinal,
    from media_utterances
    group by source_file, media_id, media_file_name, camera_view
),

final as (
    select
        media_files.source_file,
        files.story,
        media_files.media_id,
        media_files.media_file_name,
        media_files.camera_view,
        media_files.n_utterances,
        media_files.first_ordinal,
    from media_files
    inner join files using (source_file)
)

select * from final
