with

hits as (
    select * from {{ ref('int_lexicon_hits_filtered') }}
),

annotation_frames as (
    select * from {{ ref('int_annotations_expanded_to_frames') }}
),

utterances as (
    select * from {{ ref('stg_signstream__utterances') }}
),

hit_words as (
    select distinct
        source_file,
        utterance_id,
        annotation_id,
        scope,
        lower(token) as word,
        label,
        lexicon,
        category,
    from hits
),

sign_hit_frames as (
    select
        hit_words.source_file,
        hit_words.utterance_id,
        annotation_frames.frame_index,
        hit_words.annotation_id,
        hit_words.scope,
        hit_words.word,
        hit_words.label,
        hit_words.lexicon,
        hit_words.category,
    from hit_words
    inner join annotation_frames
        on hit_words.source_file = annotation_frames.source_file
        and hit_words.annotation_id = annotation_frames.annotation_id
    where hit_words.scope = 'sign'
),

utterance_hit_frames as (
    select
        hit_words.source_file,
        hit_words.utterance_id,
        unnest(range(utterances.n_frames)) as frame_index,
        hit_words.annotation_id,
        hit_words.scope,
        hit_words.word,
        hit_words.label,
        hit_words.lexicon,
        hit_words.category,
    from hit_words
    inner join utterances
        on hit_words.source_file = utterances.source_file
        and hit_words.utterance_id = utterances.utterance_id
    where hit_words.scope = 'utterance'
),

final as (
    select * from sign_hit_frames
    union all
    select * from utterance_hit_frames
)

select * from final
