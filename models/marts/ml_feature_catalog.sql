{#-
    The column order of the one-hot matrix: `ml/` sorts by (role, feature) and checks that
    the lists in `ml_frame_matrix` use only these names.
-#}
with

matrix as (
    select * from {{ ref('ml_frame_matrix') }}
),

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

feature_kinds as (
    select
        feature,
        min(feature_kind) as feature_kind,
    from frame_features
    group by feature
),

inputs as (
    select
        unnest(input_features) as feature,
        'input' as role,
    from matrix
),

labels as (
    select
        unnest(labels) as feature,
        'label' as role,
    from matrix
),

unioned as (
    select * from inputs
    union all
    select * from labels
),

counted as (
    select
        feature,
        role,
        count(*) as n_frames,
    from unioned
    group by feature, role
),

final as (
    select
        counted.feature,
        counted.role,
        feature_kinds.feature_kind,
        counted.n_frames,
        row_number() over (partition by counted.role order by counted.feature) - 1
            as column_index,
    from counted
    left join feature_kinds
        on counted.feature = feature_kinds.feature
)

select * from final
