{{ config(materialized='table') }}

with

signstream_features as (
    select * from {{ ref('int_frame_features_from_signstream') }}
),

action_units as (
    select * from {{ ref('facs_action_units') }}
),

mapped as (
    select
        signstream_features.source_file,
        signstream_features.utterance_id,
        signstream_features.frame_index,
        action_units.au_code,
        action_units.au_feature,
        action_units.intensity,
    from signstream_features
    inner join action_units
        on signstream_features.feature = action_units.feature
    where action_units.au_code is not null
),

-- Two SignStream features can show the same AU in one frame (e.g. `eye brows=raised` and
-- `eye aperture=wide`): keep one row with the stronger intensity (FACS letters sort A < E).
one_per_frame_and_au as (
    select
        source_file,
        utterance_id,
        frame_index,
        au_code,
        min(au_feature) as au_feature,
        max(intensity) as intensity,
    from mapped
    group by source_file, utterance_id, frame_index, au_code
),

final as (
    select
        source_file,
        utterance_id,
        frame_index,
        au_feature as feature,
        'au' as feature_kind,
        au_code as field_name,
        intensity as value_name,
    from one_per_frame_and_au
)

select * from final
