{#- The corpus files: the rows of int_source_files_named. -#}
with

files as (
    select * from {{ ref('int_source_files_named') }}
),

final as (
    select * from files
)

select * from final
