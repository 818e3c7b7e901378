{{ config(materialized='table') }}

with

expanded as (
    select * from {{ ref('int_annotations_expanded_to_frames') }}
),

final as (
    select distinct
        {{ column_list(frame_key()) }},
        feature,
        feature_kind,
        field_name,
        coalesce(value_name, annotation_text) as value_name,
    from expanded
    where feature is not null
        and feature_kind <> 'text'
)

select * from final
