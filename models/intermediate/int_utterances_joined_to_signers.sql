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

translations as (
    select
        source_file,
        utterance_id,
        string_agg(annotation_text, ' ' order by start_ms, annotation_id) as english_translation,
    from annotations
    where field_name = 'English translation' and annotation_text is not null
    group by all
),

gloss_sequences as (
    select
        source_file,
        utterance_id,
        string_agg(annotation_text, ' ' order by start_ms, annotation_id) as main_gloss_sequence,
    from annotations
    where field_name = 'main gloss' and annotation_text is not null
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
        utterances.excerpt,
        gloss_sequences.main_gloss_sequence,
        translations.english_translation,
    from utterances
    inner join files
        on utterances.source_file = files.source_file
    left join primary_segments
        on utterances.source_file = primary_segments.source_file
        and utterances.utterance_id = primary_segments.utterance_id
    left join participants
        on primary_segments.source_file = participants.source_file
        and primary_segments.participant_id = participants.participant_id
    left join translations
        on utterances.source_file = translations.source_file
        and utterances.utterance_id = translations.utterance_id
    left join gloss_sequences
        on utterances.source_file = gloss_sequences.source_file
        and utterances.utterance_id = gloss_sequences.utterance_id
)

select * from final
