{#-
    The rows and columns of int_face_frames_linked_to_utterances, for readers (documented in the YAML).
-#}
with

final as (
    select * from {{ ref('int_face_frames_linked_to_utterances') }}
)

select * from final
