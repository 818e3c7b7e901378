{#-
    The units of each grain the association statistics count, with what the statistics
    need to resample and permute them. Vars:
      association_cluster_unit      story (default), signer or utterance (for a corpus of
                                    one story, such as a single transcript): bootstrapped,
                                    and the stratum inside which labels are permuted
      association_feature_families  families paired with the labels (default signstream, au)
      lexical_scope                 sign: a frame's labels and block are its sign token's;
                                    utterance: its utterance's
      comparison_set                eligible (default): only the units that could have
                                    carried a label (`is_eligible`); all: every unit
-#}
{%- set cluster_unit = setting('association_cluster_unit') -%}
{%- set cluster_columns = {
    'story': '{t}.story',
    'signer': '{t}.signer_id',
    'utterance': "{t}.source_file || '/' || {t}.utterance_id",
} -%}
{%- set cluster_column = cluster_columns[cluster_unit] -%}
{%- set families = setting('association_feature_families') -%}
{%- set scope = setting('lexical_scope') -%}
{%- set comparison_set = setting('comparison_set') -%}
{#- A frame or sign is eligible when its sign is (scope sign) or its utterance is (utterance). -#}
{%- set is_eligible = 'eligible_signs.sign_token_id is not null' if scope == 'sign'
    else 'eligible_utterances.utterance_id is not null' -%}

with

frames as (
    select * from {{ ref('fct_frames') }}
),

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

sign_tokens as (
    select * from {{ ref('fct_sign_tokens') }}
),

sign_token_features as (
    select * from {{ ref('fct_sign_token_features') }}
),

utterances as (
    select * from {{ ref('dim_utterances') }}
),

utterance_features as (
    select * from {{ ref('fct_utterance_features') }}
),

dim_features as (
    select * from {{ ref('dim_features') }}
),

paired_features as (
    select feature from dim_features
    where family in ({{ quoted(families) }})
),

labels as (
    select feature from dim_features
    where feature_kind = 'lexical'
),

lookups as (
    select * from {{ ref('int_lexicon_lookups_filtered') }}
),

{#-
    The units that could have carried a label: at scope sign, a sign token whose gloss gives
    a looked-up word (not a pointing sign, a classifier without a description or a name;
    nor a quoted description while those are kept out of the labels), and an utterance
    with such a sign; at scope utterance, an utterance whose translation gives a
    looked-up word, and its signs.
-#}
eligible_signs as (
    select sign_tokens.sign_token_id,
    from sign_tokens
    inner join lookups
        on sign_tokens.source_file = lookups.source_file
        and sign_tokens.annotation_id = lookups.annotation_id
    where lookups.scope = 'sign'
),

eligible_utterances as (
    {% if scope == 'sign' -%}
    select distinct sign_tokens.source_file, sign_tokens.utterance_id,
    from sign_tokens
    inner join eligible_signs on sign_tokens.sign_token_id = eligible_signs.sign_token_id
    {%- else -%}
    select distinct source_file, utterance_id,
    from lookups
    where scope = 'utterance'
    {%- endif %}
),

-- The sign covering each frame; a boundary frame shared by two spans goes to the later sign.
frame_signs as (
    select
        frames.source_file,
        frames.utterance_id,
        frames.frame_index,
        sign_tokens.sign_token_id,
    from frames
    inner join sign_tokens on {{ on_sign_token_frames('sign_tokens', 'frames') }}
    qualify row_number() over (
        partition by frames.source_file, frames.utterance_id, frames.frame_index
        order by sign_tokens.start_frame desc, sign_tokens.sign_token_id desc
    ) = 1
),

-- The frames whose lists are kept: at comparison_set eligible only the eligible ones (about
-- 40% of NCSLGR's frames), so the lists, the costliest aggregate here, skip the others.
listed_frame_features as (
    select frame_features.*
    from frame_features
    {%- if comparison_set == 'eligible' and scope == 'sign' %}
    semi join (
        select frame_signs.source_file, frame_signs.utterance_id, frame_signs.frame_index,
        from frame_signs
        semi join eligible_signs on frame_signs.sign_token_id = eligible_signs.sign_token_id
    ) as eligible_frames using (source_file, utterance_id, frame_index)
    {%- elif comparison_set == 'eligible' %}
    semi join eligible_utterances using (source_file, utterance_id)
    {%- endif %}
),

frame_lists as (
    {{ feature_and_label_lists('listed_frame_features', frame_key()) }}
),

{% if scope == 'sign' -%}
-- At scope sign a frame's labels are its sign's, not those of every sign sharing the frame.
frame_sign_labels as (
    select
        frame_signs.source_file,
        frame_signs.utterance_id,
        frame_signs.frame_index,
        list(labels.feature order by labels.feature) as labels,
    from frame_signs
    inner join sign_tokens on frame_signs.sign_token_id = sign_tokens.sign_token_id
    cross join unnest(sign_tokens.lexical_labels) as token_labels(label)
    inner join labels on token_labels.label = labels.feature
    group by all
),
{%- endif %}

frame_units as (
    select
        'frame' as grain,
        frames.source_file,
        {{ cluster_column | replace('{t}', 'frames') }} as cluster_key,
        {% if scope == 'sign' -%}
        frame_signs.sign_token_id as block_key,
        {%- else -%}
        frames.source_file || '/' || frames.utterance_id as block_key,
        {%- endif %}
        coalesce({{ 'frame_sign_labels' if scope == 'sign' else 'frame_lists' }}.labels, []) as labels,
        coalesce(frame_lists.features, []) as features,
        frames.source_file || '/' || frames.utterance_id || '/' || frames.frame_index as unit_key,
        {{ is_eligible }} as is_eligible,
        {{ gloss_item("frame_sign_tokens.gloss") }} as item_key,
    from frames
    left join frame_signs using (source_file, utterance_id, frame_index)
    {% if scope == 'sign' -%}
    left join eligible_signs on frame_signs.sign_token_id = eligible_signs.sign_token_id
    {%- else -%}
    left join eligible_utterances using (source_file, utterance_id)
    {%- endif %}
    left join sign_tokens as frame_sign_tokens
        on frame_signs.sign_token_id = frame_sign_tokens.sign_token_id
    left join frame_lists using (source_file, utterance_id, frame_index)
    {%- if scope == 'sign' %}
    left join frame_sign_labels using (source_file, utterance_id, frame_index)
    {%- endif %}
),

sign_feature_lists as (
    {{ feature_and_label_lists('sign_token_features', ['sign_token_id']) }}
),

sign_units as (
    select
        'sign' as grain,
        sign_tokens.source_file,
        {{ cluster_column | replace('{t}', 'sign_tokens') }} as cluster_key,
        sign_tokens.sign_token_id as block_key,
        coalesce(sign_feature_lists.labels, []) as labels,
        coalesce(sign_feature_lists.features, []) as features,
        sign_tokens.sign_token_id as unit_key,
        {{ is_eligible }} as is_eligible,
        {{ gloss_item("sign_tokens.gloss") }} as item_key,
    from sign_tokens
    left join sign_feature_lists on sign_tokens.sign_token_id = sign_feature_lists.sign_token_id
    {% if scope == 'sign' -%}
    left join eligible_signs on sign_tokens.sign_token_id = eligible_signs.sign_token_id
    {%- else -%}
    left join eligible_utterances
        on sign_tokens.source_file = eligible_utterances.source_file
        and sign_tokens.utterance_id = eligible_utterances.utterance_id
    {%- endif %}
),

utterance_feature_lists as (
    {{ feature_and_label_lists('utterance_features', ['source_file', 'utterance_id']) }}
),

utterance_units as (
    select
        'utterance' as grain,
        utterances.source_file,
        {{ cluster_column | replace('{t}', 'utterances') }} as cluster_key,
        utterances.source_file || '/' || utterances.utterance_id as block_key,
        coalesce(utterance_feature_lists.labels, []) as labels,
        coalesce(utterance_feature_lists.features, []) as features,
        utterances.source_file || '/' || utterances.utterance_id as unit_key,
        eligible_utterances.utterance_id is not null as is_eligible,
        cast(null as varchar) as item_key,
    from utterances
    left join utterance_feature_lists using (source_file, utterance_id)
    left join eligible_utterances using (source_file, utterance_id)
),

all_units as (
    select * from frame_units
    union all
    select * from sign_units
    union all
    select * from utterance_units
),

final as (
    select * from all_units
    {%- if comparison_set == 'eligible' %}
    where is_eligible
    {%- endif %}
)

select * from final
