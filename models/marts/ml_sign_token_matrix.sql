{#-
    The sign-token grain of the matrix `ml/` trains on (`cli.py train --grain sign`): one
    row per main-gloss sign token, its inputs as the share of its frames on which each
    input feature is active (two aligned lists, sorted by feature), its labels the token's
    own lexical labels. Long and narrow for the same reason as ml_frame_matrix; `ml/`
    fills the one-hot columns of ml_feature_catalog with the shares.

    vars:
      ml_input_kinds  feature kinds used as inputs (see dbt_project.yml)
      ml_input_roles  of those, the roles kept (`dim_features.role`; default face: never the
                      mouthed word, the neck or the part of speech)
      lexical_scope   recorded, as on ml_frame_matrix; applied upstream in fct_sign_tokens
-#}
with

dim_features as (
    select * from {{ ref('dim_features') }}
),

tokens as (
    select * from {{ ref('fct_sign_tokens') }}
),

token_features as (
    select * from {{ ref('fct_sign_token_features') }}
),

token_inputs as (
    select
        sign_token_id,
        list(feature order by feature) as input_features,
        list(share_active order by feature) as input_shares,
    from token_features
    where {{ is_ml_input('token_features') }}
    group by sign_token_id
),

final as (
    select
        tokens.sign_token_id,
        tokens.source_file,
        tokens.utterance_id,
        tokens.annotation_id,
        tokens.story,
        tokens.signer_id,
        tokens.n_frames,
        coalesce(token_inputs.input_features, []::varchar[]) as input_features,
        coalesce(token_inputs.input_shares, []::double[]) as input_shares,
        tokens.lexical_labels as labels,
        {{ ml_matrix_settings('lexical') }},
    from tokens
    left join token_inputs
        on tokens.sign_token_id = token_inputs.sign_token_id
)

select * from final
