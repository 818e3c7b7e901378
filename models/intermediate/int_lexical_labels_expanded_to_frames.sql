{{ config(materialized='table') }}

with

hit_frames as (
    select * from {{ ref('int_lexicon_hits_expanded_to_frames') }}
),

final as (
    select distinct
        {{ column_list(frame_key()) }},
        label,
        lexicon,
        category,
        scope,
    from hit_frames
)

select * from final
