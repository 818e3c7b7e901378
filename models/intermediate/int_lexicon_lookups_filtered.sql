{#-
    The lexicon look-ups that gave a word, i.e. the units that could have carried a label
    (fct_association_units' comparison set): a sign whose gloss gives a looked-up word (not
    a quoted description while var keep_description_labels is false), an utterance whose
    translation gives one.
-#}
with

lookups as (
    select * from {{ ref('stg_lexicon__lookups') }}
),

final as (
    select *
    from lookups
    where n_lookup_words > 0
        {%- if not setting('keep_description_labels') %}
        and (scope = 'utterance' or label_source = 'word')
        {%- endif %}
)

select * from final
