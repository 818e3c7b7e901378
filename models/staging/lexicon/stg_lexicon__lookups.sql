with

source as (
    select * from {{ source('lexicon', 'lexicon_lookups') }}
),

final as (
    select
        source_file,
        utterance_id,
        annotation_id,
        scope,
        words,
        n_lookup_words,
        label_source,
        source_text,
    from source
)

select * from final
