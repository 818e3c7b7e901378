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
        {{ column_list(lexicon_unit_key()) }},
        if(scope = 'sign', annotation_id, utterance_id) as scope_id,
        lower(token) as word,
        label,
        lexicon,
        category,
    from hits
),

{#- A sign-scope word covers its gloss's frames, an utterance-scope word its utterance's. -#}
scope_frames as (
    select source_file, 'sign' as scope, annotation_id as scope_id, frame_index,
    from annotation_frames

    union all

    select
        source_file,
        'utterance' as scope,
        utterance_id as scope_id,
        unnest(range(n_frames)) as frame_index,
    from utterances
),

final as (
    select
        hit_words.source_file,
        hit_words.utterance_id,
        scope_frames.frame_index,
        hit_words.annotation_id,
        hit_words.scope,
        hit_words.word,
        hit_words.label,
        hit_words.lexicon,
        hit_words.category,
    from hit_words
    inner join scope_frames using (source_file, scope, scope_id)
)

select * from final
