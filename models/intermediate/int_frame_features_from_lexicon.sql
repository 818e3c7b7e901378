{#-
    The one place the label-support filter is applied, as in the study: a lexical label
    enters the frame table (and so every statistic and the ML targets) only if it covers
    at least var('lexical_min_frames') frames at the chosen var('lexical_scope').
-#}
with

labelled_frames as (
    select * from {{ ref('int_lexical_labels_expanded_to_frames') }}
),

at_scope as (
    select * from labelled_frames
    where scope = '{{ var("lexical_scope") }}'
),

supported_labels as (
    select label
    from at_scope
    group by label
    having count(*) >= {{ var('lexical_min_frames') }}
),

final as (
    select
        at_scope.source_file,
        at_scope.utterance_id,
        at_scope.frame_index,
        at_scope.label as feature,
        'lexical' as feature_kind,
        at_scope.lexicon as field_name,
        at_scope.category as value_name,
    from at_scope
    inner join supported_labels
        on at_scope.label = supported_labels.label
)

select * from final
