{#-
    Where each sign-scope label comes from, gloss by gloss, with what the label rules of
    int_lexicon_hits_classified did to its tokens: `cli.py labels LABEL` reads it.
-#}
with

classified as (
    select * from {{ ref('int_lexicon_hits_classified') }}
),

-- One row per sign token × label: a token whose gloss gives the label twice counts once,
-- excluded only when every hit of it is.
token_labels as (
    select
        source_file,
        utterance_id,
        annotation_id,
        label,
        any_value(lexicon) as lexicon,
        any_value(category) as category,
        any_value(gloss) as gloss,
        any_value(label_source) as label_source,
        any_value(source_text) as source_text,
        bool_or(is_negated) as is_negated,
        bool_or(is_in_negation_span) as is_in_negation_span,
        any_value(review_decision) as review_decision,
        any_value(review_reason) as review_reason,
        if(
            bool_or(excluded_by is null),
            null,
            min_by(
                excluded_by,
                list_position(['question_word', 'description', 'negated', 'review'], excluded_by)
            )
        ) as excluded_by,
    from classified
    where scope = 'sign'
    group by source_file, utterance_id, annotation_id, label
),

final as (
    select
        label,
        gloss,
        label_source,
        any_value(lexicon) as lexicon,
        any_value(category) as category,
        list(distinct source_text order by source_text) as gloss_variants,
        count(*) as n_tokens,
        count(distinct (source_file, utterance_id)) as n_utterances,
        count(*) filter (where is_negated) as n_negated,
        count(*) filter (where is_in_negation_span) as n_in_negation_span,
        any_value(review_decision) as review_decision,
        any_value(review_reason) as review_reason,
        count(*) filter (where excluded_by is null) as n_labelled,
        count(*) filter (where excluded_by = 'question_word') as n_lost_question_word,
        count(*) filter (where excluded_by = 'description') as n_lost_description,
        count(*) filter (where excluded_by = 'negated') as n_lost_negated,
        count(*) filter (where excluded_by = 'review') as n_lost_review,
    from token_labels
    group by label, gloss, label_source
)

select * from final
