{#-
    The lexicon hits that become lexical labels, at both scopes: those no rule of
    int_lexicon_hits_classified excludes (question words, quoted descriptions, negated
    signs, senses the review drops; each rule has a var that turns it off).
-#}
with

classified as (
    select * from {{ ref('int_lexicon_hits_classified') }}
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
        label_source,
    from classified
    where excluded_by is null
)

select * from final
