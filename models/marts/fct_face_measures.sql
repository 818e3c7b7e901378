{#-
    The rows and columns of int_face_measures_scored, for readers (documented in the YAML).
-#}
with

final as (
    select * from {{ ref('int_face_measures_scored') }}
)

select * from final
