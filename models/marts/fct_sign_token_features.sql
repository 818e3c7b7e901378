{#-
    A feature is present on a token when it is active on at least one of the token's frames
    (any overlap). Lexical labels are the exception: a token carries exactly its own
    `lexical_labels` (from the lexicon hits), on all its frames, never a label of a
    neighbouring sign that shares a boundary frame.
-#}
with

tokens as (
    select * from {{ ref('fct_sign_tokens') }}
),

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

overlapping_features as (
    select
        tokens.sign_token_id,
        frame_features.feature,
        any_value(frame_features.feature_kind) as feature_kind,
        count(*) as n_frames_active,
    from tokens
    inner join frame_features on {{ on_sign_token_frames('tokens', 'frame_features') }}
    where frame_features.feature_kind not in ('gloss', 'text', 'lexical')
    group by tokens.sign_token_id, frame_features.feature
),

lexical_features as (
    select
        sign_token_id,
        unnest(lexical_labels) as feature,
        'lexical' as feature_kind,
        n_frames as n_frames_active,
    from tokens
),

unioned as (
    select * from overlapping_features
    union all
    select * from lexical_features
),

final as (
    select
        {{ column_list(sign_token_columns(), 'tokens') }},
        unioned.feature,
        unioned.feature_kind,
        unioned.n_frames_active,
        unioned.n_frames_active / tokens.n_frames as share_active,
    from unioned
    inner join tokens
        on unioned.sign_token_id = tokens.sign_token_id
)

select * from final
