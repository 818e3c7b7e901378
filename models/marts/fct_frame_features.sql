with

signstream_features as (
    select * from {{ ref('int_frame_features_from_signstream') }}
),

unioned as (
    select
        source_file,
        utterance_id,
        frame_index,
        feature,
        feature_kind,
        field_name,
        value_name,
    from signstream_features
),

final as (
    select * from unioned
)

select * from final
