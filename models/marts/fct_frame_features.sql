with

signstream_features as (
    select * from {{ ref('int_frame_features_from_signstream') }}
),

action_unit_features as (
    select * from {{ ref('int_frame_features_from_action_units') }}
),

lexical_features as (
    select * from {{ ref('int_frame_features_from_lexicon') }}
),

fer_features as (
    select * from {{ ref('int_frame_features_from_fer') }}
),

-- One block per feature source, all with the same seven columns: add a source by adding its
-- import CTE above and one more `union all` block here.
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

    union all

    select
        source_file,
        utterance_id,
        frame_index,
        feature,
        feature_kind,
        field_name,
        value_name,
    from action_unit_features

    union all

    select
        source_file,
        utterance_id,
        frame_index,
        feature,
        feature_kind,
        field_name,
        value_name,
    from lexical_features

    union all

    select
        source_file,
        utterance_id,
        frame_index,
        feature,
        feature_kind,
        field_name,
        value_name,
    from fer_features
),

final as (
    select * from unioned
)

select * from final
