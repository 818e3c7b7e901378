{#-
    The one place grammatical question words (seed question_words) are kept out of the
    lexical labels, at both scopes; dbt var keep_question_words: true keeps them.
-#}
{%- set keep_question_words = var('keep_question_words') -%}
{%- if keep_question_words not in [true, false] -%}
    {{ exceptions.raise_compiler_error("var keep_question_words must be true or false, not " ~ keep_question_words) }}
{%- endif -%}

with

hits as (
    select * from {{ ref('stg_lexicon__hits') }}
),

question_words as (
    select * from {{ ref('question_words') }}
),

final as (
    select hits.*
    from hits
    {%- if not keep_question_words %}
    anti join question_words
        on lower(hits.token) = question_words.word
    {%- endif %}
)

select * from final
