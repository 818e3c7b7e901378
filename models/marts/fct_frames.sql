{#- Every frame of every utterance: the rows of int_utterances_expanded_to_frames. -#}
with

utterance_frames as (
    select * from {{ ref('int_utterances_expanded_to_frames') }}
),

final as (
    select * from utterance_frames
)

select * from final
