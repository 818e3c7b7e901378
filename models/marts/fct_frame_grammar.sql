with

frames as (
    select * from {{ ref('fct_frames') }}
),

marked as (
    select * from {{ ref('int_frames_marked_by_grammar') }}
),

markers_per_frame as (
    select
        source_file,
        utterance_id,
        frame_index,
        list(marker order by marker) as grammatical_markers,
    from marked
    group by source_file, utterance_id, frame_index
),

final as (
    select
        frames.source_file,
        frames.story,
        frames.utterance_id,
        frames.frame_index,
        frames.signer_id,
        coalesce(markers_per_frame.grammatical_markers, []::varchar[]) as grammatical_markers,
        markers_per_frame.grammatical_markers is not null as is_inside_grammar,
    from frames
    left join markers_per_frame using (source_file, utterance_id, frame_index)
)

select * from final
