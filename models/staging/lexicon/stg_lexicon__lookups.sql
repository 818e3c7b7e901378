with

source as (
    select * from {{ source('lexicon', 'lexicon_lookups') }}
),

final as (
    select
        {{ column_list(lexicon_unit_key()) }},
        words,
        n_lookup_words,
        label_source,
        source_text,
    from source
)

select * from final
