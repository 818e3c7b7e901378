{{ config(materialized='table') }}

with

hits as (
    select * from {{ ref('stg_lexicon__hits') }}
),

annotation_frames as (
    select * from {{ ref('int_annotations_expanded_to_frames') }}
),

utterances as (
    select * from {{ ref('stg_signstream__utterances') }}
),

sign_labels as (
    select distinct
        hits.source_file,
        hits.utterance_id,
        annotation_frames.frame_index,
        hits.label,
        hits.lexicon,
        hits.category,
        'sign' as scope,
    from hits
    inner join annotation_frames
        on hits.source_file = annotation_frames.source_file
        and hits.annotation_id = annotation_frames.annotation_id
    where hits.scope = 'sign'
),

utterance_label_set as (
    select distinct
        source_file,
        utterance_id,
        label,
        lexicon,
        category,
    from hits
    where scope = 'utterance'
),

utterance_labels as (
    select
        labels.source_file,
        labels.utterance_id,
        unnest(range(utterances.n_frames)) as frame_index,
        labels.label,
        labels.lexicon,
        labels.category,
        'utterance' as scope,
    from utterance_label_set as labels
    inner join utterances
        on labels.source_file = utterances.source_file
        and labels.utterance_id = utterances.utterance_id
),

final as (
    select * from sign_labels
    union all
    select * from utterance_labels
)

select * from final
