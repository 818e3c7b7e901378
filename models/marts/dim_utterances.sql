with

utterances as (
    select * from {{ ref('int_utterances_joined_to_signers') }}
),

final as (
    select * from utterances
)

select * from final
