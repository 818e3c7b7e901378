{#-
    Thresholded face measures as frame features `face:<name>`: a frame carries the feature
    when its measure's robust z-score within the signer's frames of its file
    (fct_face_measures) is at least var
    `face_threshold_z` in the feature's direction. Var `face_features` maps each name to
    [measure, direction]: direction 1 for high values (brow_raise: brows far above the eyes),
    -1 for low ones (brow_lower). The threshold is relative to the signer's own frames, so a
    signer whose brows sit high does not raise them on every frame.
-#}
{%- set threshold = var('face_threshold_z') -%}

with

face_measures as (
    select * from {{ ref('fct_face_measures') }}
),

{% for name, rule in var('face_features').items() %}
{%- if rule[1] not in [1, -1] -%}
    {{ exceptions.raise_compiler_error("var face_features: " ~ name ~ " needs direction 1 or -1") }}
{%- endif %}
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
    where z_{{ rule[0] }} * {{ rule[1] }} >= {{ threshold }}
),

{% endfor %}
final as (
    {%- for name in var('face_features') %}
    select * from face_{{ name }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from final
