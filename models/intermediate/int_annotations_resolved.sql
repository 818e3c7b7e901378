with

annotations as (
    select * from {{ ref('stg_signstream__annotations') }}
),

fields as (
    select * from {{ ref('stg_signstream__fields') }}
),

field_kinds as (
    select * from {{ ref('signstream_field_kinds') }}
),

coded_values as (
    select * from {{ ref('stg_signstream__values') }}
),

utterances as (
    select * from {{ ref('stg_signstream__utterances') }}
),

files as (
    select * from {{ ref('stg_signstream__files') }}
),

participants as (
    select * from {{ ref('stg_signstream__participants') }}
),

named as (
    select
        annotations.source_file,
        files.story,
        annotations.annotation_id,
        annotations.utterance_id,
        annotations.participant_id,
        participants.signer_id,
        annotations.field_id,
        fields.field_name,
        coalesce(fields.feature_kind, field_kinds.feature_kind, 'other') as feature_kind,
        annotations.value_id,
        coded_values.value_name,
        annotations.annotation_text,
        coalesce(coded_values.is_transition, false) as is_transition,
        annotations.start_ms,
        annotations.end_ms,
        annotations.start_frame,
        annotations.end_frame,
        utterances.n_frames as utterance_n_frames,
    from annotations
    inner join fields using (source_file, field_id)
    left join field_kinds
        on fields.field_name = field_kinds.field_name
    left join coded_values using (source_file, field_id, value_id)
    inner join utterances using (source_file, utterance_id)
    inner join files on annotations.source_file = files.source_file
    left join participants
        on annotations.source_file = participants.source_file
        and annotations.participant_id = participants.participant_id
),

final as (
    select
        *,
        case
            when is_transition then null
            when value_name is not null then field_name || '=' || value_name
            when feature_kind = 'gloss' and annotation_text is not null
                then field_name || '=' || annotation_text
        end as feature,
        case when is_transition then value_name end as transition,
    from named
)

select * from final
