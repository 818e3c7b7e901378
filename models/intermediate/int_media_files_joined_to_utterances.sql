{#-
    Each media file a corpus file declares, once per utterance that refers to it (once,
    with a null utterance, when none does): what dim_media_files counts and what the FER
    link follows from a video to the utterance frames it shows.
-#}
with

media_files as (
    select * from {{ ref('stg_signstream__media_files') }}
),

utterance_media as (
    select * from {{ ref('stg_signstream__utterance_media') }}
),

final as (
    select
        source_file,
        media_id,
        media_files.media_file_name,
        media_files.camera_view,
        utterance_media.utterance_id,
        utterance_media.media_ordinal,
    from media_files
    left join utterance_media using (source_file, media_id)
)

select * from final
