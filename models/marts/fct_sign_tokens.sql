{#-
    A token's lexical labels come from the lexicon hits, never from frames it shares with a
    neighbouring sign: at scope `sign` the hits on its own main-gloss annotation, at scope
    `utterance` the hits on its utterance's translation; only labels that pass the support
    filter (int_lexical_labels_supported) and the question-word exclusion
    (int_lexicon_hits_filtered).
-#}
with

spans as (
    select * from {{ ref('fct_annotation_spans') }}
),

hits as (
    select * from {{ ref('int_lexicon_hits_filtered') }}
),

supported_labels as (
    select * from {{ ref('int_lexical_labels_supported') }}
),

tokens as (
    select
        source_file || '#' || annotation_id as sign_token_id,
        source_file,
        story,
        utterance_id,
        annotation_id,
        participant_id,
        signer_id,
        annotation_text as gloss,
        start_frame,
        end_frame,
        n_frames,
    from spans
    where field_name = 'main gloss'
        and not is_transition
),

hits_at_scope as (
    select
        hits.source_file,
        hits.utterance_id,
        hits.annotation_id,
        hits.scope,
        hits.label,
    from hits
    inner join supported_labels
        on hits.label = supported_labels.label
    where hits.scope = '{{ setting("lexical_scope") }}'
),

token_labels as (
    select
        tokens.sign_token_id,
        list(distinct hits_at_scope.label order by hits_at_scope.label) as lexical_labels,
    from tokens
    inner join hits_at_scope
        on {{ hit_labels_token('hits_at_scope', 'tokens') }}
    group by tokens.sign_token_id
),

final as (
    select
        tokens.*,
        coalesce(token_labels.lexical_labels, []::varchar[]) as lexical_labels,
    from tokens
    left join token_labels
        on tokens.sign_token_id = token_labels.sign_token_id
)

select * from final
