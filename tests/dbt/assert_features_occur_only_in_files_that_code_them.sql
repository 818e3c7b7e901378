-- Assert that every file in which a feature occurs codes the feature's field
-- (fct_feature_coverage): the coverage-aware denominators never leave out a file that
-- counts towards the feature's frames.
with

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

coverage as (
    select * from {{ ref('fct_feature_coverage') }}
),

occurrences as (
    select distinct
        feature,
        source_file,
    from frame_features
),

final as (
    select occurrences.*
    from occurrences
    anti join coverage using (feature, source_file)
)

select * from final
