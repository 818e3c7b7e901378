{#-
    The one place the label-support filter is applied, as in the study: a lexical label
    enters the frame table, the sign tokens (and so every statistic and the ML targets) only
    if it covers at least var('lexical_min_frames') frames at the chosen var('lexical_scope').
-#}
with

labelled_frames as (
    select * from {{ ref('int_lexical_labels_expanded_to_frames') }}
),

final as (
    select
        label,
        any_value(lexicon) as lexicon,
        any_value(category) as category,
        count(*) as n_frames,
    from labelled_frames
    where scope = '{{ setting("lexical_scope") }}'
    group by label
    having count(*) >= {{ setting('lexical_min_frames') }}
)

select * from final
