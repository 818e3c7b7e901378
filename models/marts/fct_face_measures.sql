{#-
    The face measures of each utterance frame, as the face:* features and `cli.py agree` read
    them: the signer's face (fct_face_frames.is_signer) in the video of camera view var
    `face_view` that shows the frame, from the first source of var `face_sources` that
    measured that video. Frames where the face was not found have no row.

    Each measure also as a robust z-score within its video (media file × source: one signer,
    one camera, one session): (x - median) / (1.4826 · MAD) over every frame of the video
    where the signer's face was found, utterance or not. A video with fewer than var
    `face_min_frames` such frames, or a measure that does not vary (MAD 0), has null z.
-#}
{%- set z_measures = ['brow_height', 'eye_aperture', 'mouth_opening',
                      'head_pitch_deg', 'head_yaw_deg', 'head_roll_deg'] -%}
{%- set sources = var('face_sources') -%}

with

face_frames as (
    select * from {{ ref('fct_face_frames') }}
),

utterance_frames as (
    select * from {{ ref('fct_frames') }}
),

signer_frames as (
    select * from face_frames
    where is_signer
        and face_found
        and camera_view in ('{{ var("face_view") }}', 'unknown')
),

video_scales as (
    select
        media_file,
        face_source,
        count(*) as n_found,
        {%- for m in z_measures %}
        median({{ m }}) as median_{{ m }},
        {%- endfor %}
    from signer_frames
    group by media_file, face_source
),

video_spreads as (
    select
        signer_frames.media_file,
        signer_frames.face_source,
        {%- for m in z_measures %}
        1.4826 * median(abs(signer_frames.{{ m }} - video_scales.median_{{ m }})) as scale_{{ m }},
        {%- endfor %}
    from signer_frames
    inner join video_scales using (media_file, face_source)
    group by signer_frames.media_file, signer_frames.face_source
),

chosen as (
    select
        signer_frames.*,
        video_scales.n_found,
        {%- for m in z_measures %}
        video_scales.median_{{ m }},
        video_spreads.scale_{{ m }},
        {%- endfor %}
    from signer_frames
    inner join video_scales using (media_file, face_source)
    inner join video_spreads using (media_file, face_source)
    where signer_frames.utterance_id is not null
    qualify row_number() over (
        partition by signer_frames.source_file, signer_frames.utterance_id,
            signer_frames.utterance_frame_index
        order by
            signer_frames.camera_view = 'unknown',
            case signer_frames.face_source
            {%- for s in sources %}
                when '{{ s }}' then {{ loop.index }}
            {%- endfor %}
                else {{ sources | length + 1 }}
            end,
            signer_frames.media_file
    ) = 1
),

final as (
    select
        chosen.source_file,
        utterance_frames.story,
        chosen.utterance_id,
        chosen.utterance_frame_index as frame_index,
        utterance_frames.signer_id,
        chosen.media_file,
        chosen.face_source,
        chosen.video_frame,
        chosen.head_pitch_deg,
        chosen.head_yaw_deg,
        chosen.head_roll_deg,
        chosen.brow_inner_left,
        chosen.brow_inner_right,
        chosen.brow_outer_left,
        chosen.brow_outer_right,
        chosen.brow_height,
        chosen.eye_aperture_left,
        chosen.eye_aperture_right,
        chosen.eye_aperture,
        chosen.mouth_opening,
        chosen.scores,
        {%- for m in z_measures %}
        case
            when chosen.n_found >= {{ var('face_min_frames') }} and chosen.scale_{{ m }} > 0
                then (chosen.{{ m }} - chosen.median_{{ m }}) / chosen.scale_{{ m }}
        end as z_{{ m }},
        {%- endfor %}
    from chosen
    inner join utterance_frames
        on chosen.source_file = utterance_frames.source_file
        and chosen.utterance_id = utterance_frames.utterance_id
        and chosen.utterance_frame_index = utterance_frames.frame_index
)

select * from final
