{#-
    Every token gets one row for every grammatical marker of the field-kinds seed, so each
    marker splits the tokens into inside and outside exactly once. A token is inside a
    marker when at least one of its frames is (any overlap, as for fct_sign_token_features);
    n_frames_inside keeps a stricter rule one `where` away.
-#}
with

tokens as (
    select * from {{ ref('fct_sign_tokens') }}
),

field_kinds as (
    select * from {{ ref('signstream_field_kinds') }}
),

marked as (
    select * from {{ ref('int_frames_marked_by_grammar') }}
),

annotations as (
    select * from {{ ref('int_annotations_resolved') }}
),

markers as (
    select field_name as marker,
    from field_kinds
    where feature_kind = 'grammatical'
),

coded_markers as (
    select distinct
        source_file,
        field_name as marker,
    from annotations
    where feature_kind = 'grammatical'
),

frames_inside as (
    select
        tokens.sign_token_id,
        marked.marker,
        count(*) as n_frames_inside,
    from tokens
    inner join marked on {{ on_sign_token_frames('tokens', 'marked') }}
    group by tokens.sign_token_id, marked.marker
),

final as (
    select
        {{ column_list(sign_token_columns(), 'tokens') }},
        markers.marker,
        coded_markers.marker is not null as is_coded,
        coalesce(frames_inside.n_frames_inside, 0) > 0 as is_inside,
        coalesce(frames_inside.n_frames_inside, 0) as n_frames_inside,
        coalesce(frames_inside.n_frames_inside, 0) / tokens.n_frames as share_inside,
    from tokens
    cross join markers
    left join coded_markers
        on tokens.source_file = coded_markers.source_file
        and markers.marker = coded_markers.marker
    left join frames_inside
        on tokens.sign_token_id = frames_inside.sign_token_id
        and markers.marker = frames_inside.marker
)

select * from final
