{#-
    The FER results joined to the corpus, for readers: the rows and columns of
    int_fer_frames_linked_to_utterances (documented in the YAML).
-#}
with

fer_frames as (
    select * from {{ ref('int_fer_frames_linked_to_utterances') }}
),

final as (
    select * from fer_frames
)

select * from final
