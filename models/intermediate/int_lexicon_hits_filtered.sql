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
        * exclude (
            gloss,
            is_question_word,
            is_negated,
            is_in_negation_span,
            review_decision,
            review_reason,
            excluded_by
        ),
    from classified
    where excluded_by is null
)

select * from final
