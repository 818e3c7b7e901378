with

labelled_frames as (
    select * from {{ ref('int_lexical_labels_expanded_to_frames') }}
),

supported_labels as (
    select * from {{ ref('int_lexical_labels_supported') }}
),

final as (
    select
        labelled_frames.source_file,
        labelled_frames.utterance_id,
        labelled_frames.frame_index,
        labelled_frames.label as feature,
        'lexical' as feature_kind,
        labelled_frames.lexicon as field_name,
        labelled_frames.category as value_name,
    from labelled_frames
    inner join supported_labels
        on labelled_frames.label = supported_labels.label
    where labelled_frames.scope = '{{ setting("lexical_scope") }}'
)

select * from final
