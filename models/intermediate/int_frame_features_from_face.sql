{#-
    Thresholded face measures as frame features `face:<name>`: a frame carries the feature
    when its measure's robust z-score within the signer's frames of its file
    (int_face_measures_scored) is at least var
    `face_threshold_z` in the feature's direction. Var `face_features` maps each name to
    {measure, direction}: direction 1 for high values (brow_raise: brows far above the eyes),
    -1 for low ones (brow_lower). The threshold is relative to the signer's own frames, so a
    signer whose brows sit high does not raise them on every frame.
-#}
{%- set threshold = setting('face_threshold_z') -%}

with

face_measures as (
    select * from {{ ref('int_face_measures_scored') }}
),

{% for name, rule in setting('face_features').items() %}
face_{{ name }} as (
    select
        source_file,
        utterance_id,
        frame_index,
        'face:{{ name }}' as feature,
        'face' as feature_kind,
        'face' as field_name,
        '{{ name }}' as value_name,
    from face_measures
    where z_{{ rule['measure'] }} * {{ rule['direction'] }} >= {{ threshold }}
),

{% endfor %}
final as (
    {%- for name in setting('face_features') %}
    select * from face_{{ name }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from final
