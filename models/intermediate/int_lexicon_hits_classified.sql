{#-
    The one place where each lexicon hit is judged: whether it may become a lexical label.
    Every hit is kept here with four marks, and `excluded_by` names the first rule that
    removes it (null: it becomes a label in int_lexicon_hits_filtered):

      question_word  the word is in seed question_words (var keep_question_words keeps it)
      description    the sign's words are the quoted description of a classifier, gesture
                     or handshape sign (`5"surprised"`): the annotator described the display
                     being tested (var keep_description_labels keeps it)
      negated        the sign overlaps the span proper of the marker var negation_marker
                     (`negative`; ONSET/OFFSET transitions alone do not negate) or its gloss
                     puts a negator before the word (NOT-CARE, WANT+NEG): "not hard" is not
                     an emotion (var keep_negated_labels keeps it)
      review         seed label_review drops this lexicon, category and gloss: a
                     non-affective sense (HIT, STOP, REASON); var apply_label_review: false
                     turns the review off
    Negation and the review concern sign-scope hits (a gloss); a translation's hit is
    judged by the question-word rule alone.
-#}
with

hits as (
    select * from {{ ref('stg_lexicon__hits') }}
),

lookups as (
    select * from {{ ref('stg_lexicon__lookups') }}
),

question_words as (
    select * from {{ ref('question_words') }}
),

review as (
    select * from {{ ref('label_review') }}
),

annotation_frames as (
    select * from {{ ref('int_annotations_expanded_to_frames') }}
),

negation_frames as (
    select distinct source_file, utterance_id, frame_index,
    from annotation_frames
    where field_name = '{{ setting("negation_marker") }}'
        and not is_transition
),

negated_annotations as (
    select distinct
        annotation_frames.source_file,
        annotation_frames.annotation_id,
    from annotation_frames
    inner join negation_frames using (source_file, utterance_id, frame_index)
    where annotation_frames.field_name = 'main gloss'
),

marked as (
    select
        hits.source_file,
        hits.utterance_id,
        hits.annotation_id,
        hits.scope,
        hits.lexicon,
        hits.category,
        hits.label,
        hits.token,
        hits.token_index,
        hits.source_text,
        coalesce(lookups.label_source, 'word') as label_source,
        if(hits.scope = 'sign', upper(replace(lookups.words, ' ', '-')), null) as gloss,
        question_words.word is not null as is_question_word,
        hits.scope = 'sign' and (
            negated_annotations.annotation_id is not null
            or list_has_any(
                string_split(lookups.words, ' ')[1:hits.token_index],
                ['not', 'don''t', 'can''t', 'won''t', 'cannot', 'never']
            )
        ) as is_negated,
        negated_annotations.annotation_id is not null as is_in_negation_span,
        review.decision as review_decision,
        review.reason as review_reason,
    from hits
    left join lookups using (source_file, annotation_id)
    left join question_words on lower(hits.token) = question_words.word
    left join negated_annotations using (source_file, annotation_id)
    left join review
        on hits.scope = 'sign'
        and hits.lexicon = review.lexicon
        and hits.category = review.category
        and upper(replace(lookups.words, ' ', '-')) = review.gloss
),

final as (
    select
        *,
        case
            when false then null::varchar  -- every rule below may be turned off
            {%- if not setting('keep_question_words') %}
            when is_question_word then 'question_word'
            {%- endif %}
            {%- if not setting('keep_description_labels') %}
            when label_source = 'description' then 'description'
            {%- endif %}
            {%- if not setting('keep_negated_labels') %}
            when is_negated then 'negated'
            {%- endif %}
            {%- if setting('apply_label_review') %}
            when review_decision = 'drop' then 'review'
            {%- endif %}
        end as excluded_by,
    from marked
)

select * from final
