with

source as (
    select * from {{ source('signstream', 'signstream_values') }}
),

final as (
    select
        source_file,
        field_id,
        value_id,
        trim(name) as value_name,
        label as value_label,
        value_id in (400000, 400001, 400002) as is_transition,
    from source
)

select * from final
