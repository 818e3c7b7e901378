{#-
    Onset and offset of a non-manual span against each main-gloss sign it overlaps (same
    utterance, at least one shared frame). Times are SignStream's ms from the utterance start
    (unclipped); frames are the clipped frames of the frame expansion. Transitions are not
    spans here: the marker's own span (its apex) is timed, as fct_frame_features counts it,
    but the face starts moving at the ONSET transition (value id 400001, named ONSET) that
    SignStream codes before it: when the annotation just before the span on the same track
    (file, utterance, participant, field) is an ONSET, the movement starts at its start.
      onset_lead   = sign start - movement start  (> 0: the face starts before the sign)
      apex_lead    = sign start - span start      (the marker's own start)
      offset_lag   = span end - sign end          (> 0: the face ends after the sign)
    onset_timing: 'face first' when onset_lead_frames > 1, 'hands first' when < -1, else
    'simultaneous' (leads come in whole frames; one frame either way cannot be told apart).
    sign_order 1 is the first sign the span overlaps (its onset sign), which is the row
    the timing summaries use, one per span.
-#}
with

spans as (
    select * from {{ ref('fct_annotation_spans') }}
),

tokens as (
    select * from {{ ref('fct_sign_tokens') }}
),

token_grammar as (
    select * from {{ ref('fct_sign_token_grammar') }}
),

track_annotations as (
    select
        *,
        lag(is_transition and value_name = 'ONSET') over track as follows_onset,
        lag(start_ms) over track as previous_start_ms,
        lag(start_frame) over track as previous_start_frame,
    from spans
    where feature_kind in (
        {{- quoted(setting('timing_feature_kinds')) -}}
    )
    window track as (
        partition by source_file, utterance_id, participant_id, field_name
        order by start_ms, end_ms, annotation_id
    )
),

nonmanual_spans as (
    select
        * exclude (follows_onset, previous_start_ms, previous_start_frame),
        coalesce(follows_onset, false) as has_onset_transition,
        case when follows_onset then previous_start_ms else start_ms end as movement_start_ms,
        case
            when follows_onset then previous_start_frame else start_frame
        end as movement_start_frame,
    from track_annotations
    where not is_transition
),

signs as (
    select
        tokens.sign_token_id,
        tokens.source_file,
        tokens.utterance_id,
        tokens.gloss,
        tokens.lexical_labels,
        tokens.start_frame,
        tokens.end_frame,
        spans.start_ms,
        spans.end_ms,
    from tokens
    inner join spans using (source_file, annotation_id)
),

sign_markers as (
    select
        sign_token_id,
        list(marker order by marker) filter (where is_inside) as grammatical_markers,
    from token_grammar
    group by sign_token_id
),

utterance_signs as (
    select
        source_file,
        utterance_id,
        min(start_ms) as first_sign_start_ms,
        max(end_ms) as last_sign_end_ms,
    from signs
    group by source_file, utterance_id
),

pairs as (
    select
        nonmanual_spans.source_file,
        nonmanual_spans.story,
        nonmanual_spans.utterance_id,
        nonmanual_spans.signer_id,
        nonmanual_spans.annotation_id,
        nonmanual_spans.field_name,
        nonmanual_spans.feature_kind,
        nonmanual_spans.feature,
        signs.sign_token_id,
        signs.gloss,
        signs.lexical_labels as sign_lexical_labels,
        row_number() over (
            partition by nonmanual_spans.source_file, nonmanual_spans.annotation_id
            order by signs.start_ms, signs.sign_token_id
        ) as sign_order,
        count(*) over (
            partition by nonmanual_spans.source_file, nonmanual_spans.annotation_id
        ) as n_signs_overlapped,
        nonmanual_spans.has_onset_transition,
        nonmanual_spans.movement_start_ms,
        nonmanual_spans.movement_start_frame,
        nonmanual_spans.start_ms as span_start_ms,
        nonmanual_spans.end_ms as span_end_ms,
        signs.start_ms as sign_start_ms,
        signs.end_ms as sign_end_ms,
        nonmanual_spans.start_frame as span_start_frame,
        nonmanual_spans.end_frame as span_end_frame,
        signs.start_frame as sign_start_frame,
        signs.end_frame as sign_end_frame,
    from nonmanual_spans
    inner join signs
        on nonmanual_spans.source_file = signs.source_file
        and nonmanual_spans.utterance_id = signs.utterance_id
        and nonmanual_spans.start_frame <= signs.end_frame
        and signs.start_frame <= nonmanual_spans.end_frame
),

final as (
    select
        pairs.*,
        pairs.sign_start_ms - pairs.movement_start_ms as onset_lead_ms,
        pairs.sign_start_ms - pairs.span_start_ms as apex_lead_ms,
        pairs.span_end_ms - pairs.sign_end_ms as offset_lag_ms,
        pairs.sign_start_frame - pairs.movement_start_frame as onset_lead_frames,
        pairs.sign_start_frame - pairs.span_start_frame as apex_lead_frames,
        pairs.span_end_frame - pairs.sign_end_frame as offset_lag_frames,
        case
            when pairs.sign_start_frame - pairs.movement_start_frame > 1 then 'face first'
            when pairs.sign_start_frame - pairs.movement_start_frame < -1 then 'hands first'
            else 'simultaneous'
        end as onset_timing,
        case
            when pairs.span_start_frame < pairs.sign_start_frame then 'before'
            when pairs.span_start_frame = pairs.sign_start_frame then 'with'
            else 'inside'
        end as onset_position,
        pairs.n_signs_overlapped > 1 as spans_several_signs,
        utterance_signs.first_sign_start_ms - pairs.movement_start_ms as utterance_onset_lead_ms,
        pairs.span_end_ms - utterance_signs.last_sign_end_ms as utterance_offset_lag_ms,
        coalesce(sign_markers.grammatical_markers, []::varchar[]) as sign_grammatical_markers,
    from pairs
    inner join utterance_signs using (source_file, utterance_id)
    left join sign_markers
        on pairs.sign_token_id = sign_markers.sign_token_id
)

select * from final
