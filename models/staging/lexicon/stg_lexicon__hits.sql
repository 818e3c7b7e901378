with

source as (
    select * from {{ source('lexicon', 'lexicon_hits') }}
),

final as (
    select
        {{ column_list(lexicon_unit_key()) }},
        lexicon,
        category,
        label,
        token,
        token_index,
        source_text,
    from source
)

select * from final
