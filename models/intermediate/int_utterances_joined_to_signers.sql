with

utterances as (
    select * from {{ ref('stg_signstream__utterances') }}
),

files as (
    select * from {{ ref('stg_signstream__files') }}
),

segments as (
    select * from {{ ref('stg_signstream__segments') }}
),

participants as (
    select * from {{ ref('stg_signstream__participants') }}
),

annotations as (
    select * from {{ ref('int_annotations_resolved') }}
),

primary_segments as (
    select
        source_file,
        utterance_id,
        participant_id,
    from segments
    qualify row_number() over (
        partition by source_file, utterance_id
        order by is_primary desc, participant_id
    ) = 1
),

texts as (
    select
        source_file,
        utterance_id,
        string_agg(annotation_text, ' ' order by start_ms, annotation_id)
            filter (where field_name = 'English translation') as english_translation,
        string_agg(annotation_text, ' ' order by start_ms, annotation_id)
            filter (where field_name = 'main gloss') as main_gloss_sequence,
    from annotations
    where annotation_text is not null
    group by all
),

final as (
    select
        utterances.source_file,
        files.story,
        utterances.utterance_id,
        primary_segments.participant_id,
        participants.signer_id,
        participants.signer_name,
        utterances.start_ms,
        utterances.end_ms,
        utterances.duration_ms,
        utterances.start_media_frame,
        utterances.n_frames,
        utterances.frames_per_second,
        files.format,
        utterances.excerpt,
        texts.main_gloss_sequence,
        texts.english_translation,
    from utterances
    inner join files using (source_file)
    left join primary_segments using (source_file, utterance_id)
    left join participants using (source_file, participant_id)
    left join texts using (source_file, utterance_id)
)

select * from final
