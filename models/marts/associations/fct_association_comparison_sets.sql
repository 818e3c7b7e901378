{#-
    What the association statistics compare a label's units with, per grain: the
    comparison set of dbt var comparison_set and both counts, so every output can name it.
-#}
with

units as (
    select * from {{ ref('fct_association_units') }}
),

frames as (
    select * from {{ ref('fct_frames') }}
),

sign_tokens as (
    select * from {{ ref('fct_sign_tokens') }}
),

utterances as (
    select * from {{ ref('dim_utterances') }}
),

every_unit as (
    select 'frame' as grain, count(*) as n_units_all, from frames
    union all
    select 'sign' as grain, count(*) as n_units_all, from sign_tokens
    union all
    select 'utterance' as grain, count(*) as n_units_all, from utterances
),

compared as (
    select
        grain,
        count(*) as n_units_compared,
        count(*) filter (where is_eligible) as n_units_eligible,
    from units
    group by grain
),

final as (
    select
        every_unit.grain,
        '{{ setting("comparison_set") }}' as comparison_set,
        '{{ setting("lexical_scope") }}' as lexical_scope,
        every_unit.n_units_all,
        coalesce(compared.n_units_eligible, 0) as n_units_eligible,
        coalesce(compared.n_units_compared, 0) as n_units_compared,
    from every_unit
    left join compared using (grain)
)

select * from final
