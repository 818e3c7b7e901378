with

hits as (
    select * from {{ ref('int_lexicon_hits_classified') }}
),

dim_features as (
    select * from {{ ref('dim_features') }}
),

hits_per_lexicon as (
    select
        lexicon,
        count(*) as n_hits,
        count(distinct category) as n_categories,
    from hits
    group by lexicon
),

labels_kept as (
    select
        field_name as lexicon,
        count(*) as n_labels_kept,
        sum(n_frames) as n_label_frames,
    from dim_features
    where feature_kind = 'lexical'
    group by field_name
),

final as (
    select
        hits_per_lexicon.lexicon,
        hits_per_lexicon.n_hits,
        hits_per_lexicon.n_categories,
        coalesce(labels_kept.n_labels_kept, 0) as n_labels_kept,
        coalesce(labels_kept.n_label_frames, 0) as n_label_frames,
    from hits_per_lexicon
    left join labels_kept on hits_per_lexicon.lexicon = labels_kept.lexicon
)

select * from final
