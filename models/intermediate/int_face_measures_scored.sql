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

{#- A measure's baseline: its signer's measured frames of one file and source. -#}
centred as (
    select
        measured.*,
        count(*) over baseline as n_measured,
        {%- for m in z_measures %}
        median({{ m }}) over baseline as median_{{ m }},
        {%- endfor %}
    from measured
    window baseline as (partition by source_file, signer_id, face_source)
),

scaled as (
    select
        centred.*,
        {%- for m in z_measures %}
        1.4826 * median(abs({{ m }} - median_{{ m }})) over baseline as scale_{{ m }},
        {%- endfor %}
    from centred
    window baseline as (partition by source_file, signer_id, face_source)
),

final as (
    select
        scaled.source_file,
        scaled.story,
        scaled.utterance_id,
        scaled.utterance_frame_index as frame_index,
        scaled.signer_id,
        scaled.media_file,
        scaled.face_source,
        scaled.video_frame,
        scaled.head_pitch_deg,
        scaled.head_yaw_deg,
        scaled.head_roll_deg,
        scaled.brow_inner_left,
        scaled.brow_inner_right,
        scaled.brow_outer_left,
        scaled.brow_outer_right,
        scaled.brow_height,
        scaled.eye_aperture_left,
        scaled.eye_aperture_right,
        scaled.eye_aperture,
        scaled.mouth_opening,
        scaled.scores,
        {%- for m in z_measures %}
        case
            when scaled.n_measured >= {{ setting('face_min_frames') }} and scaled.scale_{{ m }} > 0
                then (scaled.{{ m }} - scaled.median_{{ m }}) / scaled.scale_{{ m }}
        end as z_{{ m }},
        {%- endfor %}
    from scaled
)

select * from final
