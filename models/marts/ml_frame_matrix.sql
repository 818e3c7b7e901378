{#-
    The feature matrix `ml/` trains on, kept long-and-narrow on purpose: which action
    units and labels exist depends on the corpus, so a fixed wide contract is impossible.
    Each frame carries two sorted lists; `ml/` one-hot encodes them in the fixed sorted
    column order published by `ml_feature_catalog`.

    vars:
      ml_input_kinds  feature kinds used as inputs (see dbt_project.yml)
      ml_input_roles  of those, the roles kept (`dim_features.role`; default face: never the
                      mouthed word, the neck or the part of speech)
      ml_target_kind  feature kind used as labels
      lexical_scope   recorded so `cli.py train --scope` can tell whether to rebuild; the
                      scope itself is applied upstream, where the lexical rows are made
-#}
{%- set target_kind = setting('ml_target_kind') -%}

with

dim_features as (
    select * from {{ ref('dim_features') }}
),

frames as (
    select * from {{ ref('fct_frames') }}
),

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

-- A frame holds each feature once (fct_frame_features' unique key), so the lists need no
-- `distinct`, which would cost a second hash aggregate over every frame feature.
frame_inputs as (
    select
        {{ column_list(frame_key()) }},
        list(feature order by feature) as input_features,
    from frame_features
    where {{ is_ml_input('frame_features') }}
    group by {{ column_list(frame_key()) }}
),

frame_labels as (
    select
        {{ column_list(frame_key()) }},
        list(feature order by feature) as labels,
    from frame_features
    where feature_kind = '{{ target_kind }}'
    group by {{ column_list(frame_key()) }}
),

final as (
    select
        {{ column_list(frame_key(), 'frames') }},
        frames.story,
        frames.signer_id,
        coalesce(frame_inputs.input_features, []::varchar[]) as input_features,
        coalesce(frame_labels.labels, []::varchar[]) as labels,
        {{ ml_matrix_settings(target_kind) }},
    from frames
    left join frame_inputs using ({{ column_list(frame_key()) }})
    left join frame_labels using ({{ column_list(frame_key()) }})
)

select * from final
