{#-
    The media files of each story, for the ELAN export's linked media (the read side never
    reads staging).
-#}
with

media_files as (
    select * from {{ ref('stg_signstream__media_files') }}
),

utterance_media as (
    select * from {{ ref('stg_signstream__utterance_media') }}
),

files as (
    select * from {{ ref('stg_signstream__files') }}
),

referenced as (
    select
        source_file,
        media_id,
        count(distinct utterance_id) as n_utterances,
        min(media_ordinal) as first_ordinal,
    from utterance_media
    group by source_file, media_id
),

final as (
    select
        media_files.source_file,
        files.story,
        media_files.media_id,
        media_files.media_file_name,
        media_files.camera_view,
        coalesce(referenced.n_utterances, 0) as n_utterances,
        referenced.first_ordinal,
    from media_files
    inner join files using (source_file)
    left join referenced using (source_file, media_id)
)

select * from final
