{#-
    The face measures of each utterance frame, as the face:* features and `cli.py agree` read
    them (the mart fct_face_measures shows these rows): the signer's face (is_signer) in the video of camera view var
    `face_view` that shows the frame (else, for a story whose media files name no view, a
    video of view `unknown`), from the first source of var `face_sources` that measured
    that video. Frames where the face was not found have no row.

    Each measure also as a robust z-score within its signer's frames of one file (one
    session, one camera; NCSLGR gives many stories one short clip per utterance, too few
    frames, and too often all raised, to be their own baseline): (x - median) / (1.4826 ·
    MAD) over that signer's measured utterance frames of the file and source. Fewer than
    var `face_min_frames` such frames, or a measure that does not vary (MAD 0), give null z.
-#}
{%- set z_measures = face_z_measures() -%}
{%- set sources = setting('face_sources') -%}

with

face_frames as (
    select * from {{ ref('int_face_frames_linked_to_utterances') }}
),

utterance_frames as (
    select * from {{ ref('int_utterances_expanded_to_frames') }}
),

chosen as (
    select * from face_frames
    where is_signer
        and face_found
        and utterance_id is not null
        and camera_view in ('{{ setting('face_view') }}', 'unknown')
    qualify row_number() over (
        partition by source_file, utterance_id, utterance_frame_index
        order by
            camera_view = 'unknown',
            case face_source
            {%- for s in sources %}
                when '{{ s }}' then {{ loop.index }}
            {%- endfor %}
                else {{ sources | length + 1 }}
            end,
            media_file
    ) = 1
),

measured as (
    select
        chosen.*,
        utterance_frames.story,
        utterance_frames.signer_id,
    from chosen
    inner join utterance_frames
        on chosen.source_file = utterance_frames.source_file
        and chosen.utterance_id = utterance_frames.utterance_id
        and chosen.utterance_frame_index = utterance_frames.frame_index
),

centres as (
    select
        source_file,
        signer_id,
        face_source,
        count(*) as n_measured,
        {%- for m in z_measures %}
        median({{ m }}) as median_{{ m }},
        {%- endfor %}
    from measured
    group by source_file, signer_id, face_source
),

scales as (
    select
        measured.source_file,
        measured.signer_id,
        measured.face_source,
        any_value(centres.n_measured) as n_measured,
        {%- for m in z_measures %}
        any_value(centres.median_{{ m }}) as median_{{ m }},
        1.4826 * median(abs(measured.{{ m }} - centres.median_{{ m }})) as scale_{{ m }},
        {%- endfor %}
    from measured
    inner join centres
        on measured.source_file = centres.source_file
        and measured.signer_id is not distinct from centres.signer_id
        and measured.face_source = centres.face_source
    group by measured.source_file, measured.signer_id, measured.face_source
),

final as (
    select
        measured.source_file,
        measured.story,
        measured.utterance_id,
        measured.utterance_frame_index as frame_index,
        measured.signer_id,
        measured.media_file,
        measured.face_source,
        measured.video_frame,
        measured.head_pitch_deg,
        measured.head_yaw_deg,
        measured.head_roll_deg,
        measured.brow_inner_left,
        measured.brow_inner_right,
        measured.brow_outer_left,
        measured.brow_outer_right,
        measured.brow_height,
        measured.eye_aperture_left,
        measured.eye_aperture_right,
        measured.eye_aperture,
        measured.mouth_opening,
        measured.scores,
        {%- for m in z_measures %}
        case
            when scales.n_measured >= {{ setting('face_min_frames') }} and scales.scale_{{ m }} > 0
                then (measured.{{ m }} - scales.median_{{ m }}) / scales.scale_{{ m }}
        end as z_{{ m }},
        {%- endfor %}
    from measured
    inner join scales
        on measured.source_file = scales.source_file
        and measured.signer_id is not distinct from scales.signer_id
        and measured.face_source = scales.face_source
)

select * from final
