{#-
    The grammatical markers are the fields the field-kinds seed calls `grammatical`
    (int_annotations_resolved.feature_kind), never a list written here. A marker's ONSET and
    OFFSET transitions count as inside it: the face is already (or still) under the
    marker's control, so "outside grammar" keeps none of its edges.
-#}
with

annotation_frames as (
    select * from {{ ref('int_annotations_expanded_to_frames') }}
),

final as (
    select distinct
        {{ column_list(frame_key()) }},
        field_name as marker,
    from annotation_frames
    where feature_kind = 'grammatical'
)

select * from final
