with

utterances as (
    select * from {{ ref('int_utterances_joined_to_signers') }}
),

final as (
    select
        signer_id,
        min(signer_name) as signer_name,
        count(distinct source_file) as n_stories,
        count(*) as n_utterances,
        sum(n_frames) as n_frames,
    from utterances
    where signer_id is not null
    group by signer_id
)

select * from final
