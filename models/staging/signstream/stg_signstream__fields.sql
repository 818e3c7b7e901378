with

source as (
    select * from {{ source('signstream', 'signstream_fields') }}
),

final as (
    select
        source_file,
        field_id,
        name as field_name,
        name_as_spelled as field_name_raw,
        label as field_label,
        field_constraint,
        feature_kind,
        nullif(lower(trim(language)), '') as language,
    from source
)

select * from final
