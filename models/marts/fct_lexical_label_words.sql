with

hit_frames as (
    select * from {{ ref('int_lexicon_hits_expanded_to_frames') }}
),

supported_labels as (
    select * from {{ ref('int_lexical_labels_supported') }}
),

tokens as (
    select * from {{ ref('fct_sign_tokens') }}
),

frames_at_scope as (
    select hit_frames.*
    from hit_frames
    inner join supported_labels
        on hit_frames.label = supported_labels.label
    where hit_frames.scope = '{{ setting("lexical_scope") }}'
),

frame_counts as (
    select
        label,
        word,
        any_value(lexicon) as lexicon,
        any_value(category) as category,
        count(distinct (source_file, utterance_id)) as n_utterances,
        count(distinct (source_file, utterance_id, frame_index)) as n_frames,
    from frames_at_scope
    group by label, word
),

hit_words as (
    select distinct
        {{ column_list(lexicon_unit_key()) }},
        label,
        word,
    from frames_at_scope
),

sign_counts as (
    select
        hit_words.label,
        hit_words.word,
        count(distinct tokens.sign_token_id) as n_signs,
    from hit_words
    inner join tokens
        on {{ hit_labels_token('hit_words', 'tokens') }}
    group by hit_words.label, hit_words.word
),

final as (
    select
        frame_counts.word,
        frame_counts.lexicon,
        frame_counts.category,
        frame_counts.label,
        '{{ setting("lexical_scope") }}' as lexical_scope,
        coalesce(sign_counts.n_signs, 0) as n_signs,
        frame_counts.n_utterances,
        frame_counts.n_frames,
        supported_labels.n_frames as label_n_frames,
        frame_counts.n_frames / supported_labels.n_frames as share_of_label_frames,
    from frame_counts
    inner join supported_labels
        on frame_counts.label = supported_labels.label
    left join sign_counts
        on frame_counts.label = sign_counts.label
        and frame_counts.word = sign_counts.word
)

select * from final
