{#-
    Vars:
      cooccurrence_feature_kinds  feature kinds paired (a list, or a comma-separated string)
      cooccurrence_min_frames     least frames a pair must share to be tested
-#}
{%- set kinds = setting('cooccurrence_feature_kinds') -%}
{%- set min_frames = setting('cooccurrence_min_frames') -%}

with

frames as (
    select * from {{ ref('fct_frames') }}
),

frame_features as (
    select * from {{ ref('fct_frame_features') }}
),

totals as (
    select count(*) as n_total from frames
),

-- Integer keys keep the self-join narrow: an utterance number, and a frame key packing
-- (utterance number, frame index) into one bigint.
utterance_keys as (
    select
        source_file,
        utterance_id,
        row_number() over (order by source_file, utterance_id) as utterance_key,
    from frames
    group by source_file, utterance_id
),

-- A feature seen in fewer than min_frames frames cannot share min_frames frames with
-- another, so it is dropped before the self-join, not after.
selected_features as (
    select
        feature,
        min(feature_kind) as feature_kind,
        count(*) as n_frames,
        row_number() over (order by feature) as feature_id,
    from frame_features
    where feature_kind in (
        {{- quoted(kinds) -}}
    )
    group by feature
    having count(*) >= {{ min_frames }}
),

selected_frame_features as (
    select
        utterance_keys.utterance_key * 1048576 + frame_features.frame_index as frame_key,
        selected_features.feature_id,
    from frame_features
    inner join selected_features
        on frame_features.feature = selected_features.feature
    inner join utterance_keys using (source_file, utterance_id)
),

-- Each unordered pair once (id_a < id_b); the statistics are symmetric in a and b.
unordered_pair_counts as (
    select
        left_side.feature_id as feature_id_a,
        right_side.feature_id as feature_id_b,
        count(*) as n_ab,
    from selected_frame_features as left_side
    inner join selected_frame_features as right_side
        on left_side.frame_key = right_side.frame_key
        and left_side.feature_id < right_side.feature_id
    group by left_side.feature_id, right_side.feature_id
    having count(*) >= {{ min_frames }}
),

unordered_pair_tests as (
    select
        pairs.feature_id_a,
        pairs.feature_id_b,
        pairs.n_ab,
        feature_a.n_frames as n_a,
        feature_b.n_frames as n_b,
        totals.n_total,
        {{ g2_statistic('pairs.n_ab', 'feature_a.n_frames', 'feature_b.n_frames', 'totals.n_total') }} as g2,
    from unordered_pair_counts as pairs
    inner join selected_features as feature_a
        on pairs.feature_id_a = feature_a.feature_id
    inner join selected_features as feature_b
        on pairs.feature_id_b = feature_b.feature_id
    cross join totals
),

unordered_pair_pvalues as (
    select
        *,
        {{ chi2_1df_pvalue('g2') }} as p_value,
    from unordered_pair_tests
),

-- Benjamini–Hochberg over the m unordered pairs tested. Each test appears twice in the
-- ordered table below; BH over those 2m rows gives the same q-values (a tie of two rows at
-- ranks 2i − 1, 2i has q = p · 2m / 2i), so the correction counts each test once.
unordered_pair_ranks as (
    select
        *,
        {{ bh_rank('p_value') }} as p_rank,
        count(*) over () as n_tests,
    from unordered_pair_pvalues
),

unordered_pair_qvalues as (
    select
        *,
        {{ bh_qvalue('p_value', 'p_rank', 'n_tests') }} as q_value,
    from unordered_pair_ranks
),

{#- Each unordered pair in both orders: as computed, and with a and b swapped. -#}
ordered_pairs as (
    select
        if(swapped, feature_id_b, feature_id_a) as feature_id_a,
        if(swapped, feature_id_a, feature_id_b) as feature_id_b,
        if(swapped, n_b, n_a) as n_a,
        if(swapped, n_a, n_b) as n_b,
        n_ab,
        n_total,
        g2,
        p_value,
        q_value,
    from unordered_pair_qvalues
    cross join (values (false), (true)) as orders (swapped)
),

final as (
    select
        feature_a.feature as feature_a,
        feature_b.feature as feature_b,
        feature_a.feature_kind as kind_a,
        feature_b.feature_kind as kind_b,
        ordered_pairs.n_a,
        ordered_pairs.n_b,
        ordered_pairs.n_ab,
        ordered_pairs.n_total,
        ordered_pairs.n_ab / ordered_pairs.n_b as p_a_given_b,
        ordered_pairs.n_ab / ordered_pairs.n_a as p_b_given_a,
        ordered_pairs.n_a / ordered_pairs.n_total as p_a,
        ordered_pairs.n_b / ordered_pairs.n_total as p_b,
        (ordered_pairs.n_ab * ordered_pairs.n_total)
            / (cast(ordered_pairs.n_a as double) * ordered_pairs.n_b) as lift,
        log2(
            (ordered_pairs.n_ab * ordered_pairs.n_total)
            / (cast(ordered_pairs.n_a as double) * ordered_pairs.n_b)
        ) as pmi,
        case
            when ordered_pairs.n_ab = ordered_pairs.n_total then 1.0
            else log2(
                (ordered_pairs.n_ab * ordered_pairs.n_total)
                / (cast(ordered_pairs.n_a as double) * ordered_pairs.n_b)
            ) / -log2(ordered_pairs.n_ab / ordered_pairs.n_total)
        end as npmi,
        ordered_pairs.g2 as g2_frames,
        ordered_pairs.p_value as p_value_frames,
        ordered_pairs.q_value as q_value_frames,
    from ordered_pairs
    inner join selected_features as feature_a
        on ordered_pairs.feature_id_a = feature_a.feature_id
    inner join selected_features as feature_b
        on ordered_pairs.feature_id_b = feature_b.feature_id
)

select * from final
