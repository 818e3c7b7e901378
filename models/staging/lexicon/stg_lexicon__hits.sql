with

source as (
    select * from {{ source('lexicon', 'lexicon_hits') }}
),

final as (
    select
        source_file,
        utterance_id,
        annotation_id,
        scope,
        lexicon,
        category,
        label,
        token,
        token_index,
        source_text,
    from source
)

select * from final
