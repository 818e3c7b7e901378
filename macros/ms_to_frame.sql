{#-
    The one place milliseconds become frames.

    Frame f of an utterance covers [f * 1000 / fps, (f + 1) * 1000 / fps) ms from the
    utterance start, so a time t ms lies in frame floor(t * fps / 1000). A span [S, E] ms
    (SignStream's E is inclusive: it is the start of the span's last frame) covers frames
    floor(S * fps / 1000) .. floor(E * fps / 1000), both ends included.
-#}
{% macro ms_to_frame(ms) -%}
    cast(floor(({{ ms }}) * {{ var('frames_per_second') }} / 1000.0) as bigint)
{%- endmacro %}

{#- The start of frame f in ms from the utterance start (inverse of ms_to_frame). -#}
{% macro frame_to_ms(frame) -%}
    (({{ frame }}) * 1000.0 / {{ var('frames_per_second') }})
{%- endmacro %}
