{#-
    The one place milliseconds become frames.

    `fps` is a column (default `frames_per_second`, which every raw row carries from its
    file: 30 for SignStream, the mapping's rate for ELAN, --fps for DAI 2), so a mixed
    corpus expands each file at its own rate. Frame f of an utterance covers
    [f * 1000 / fps, (f + 1) * 1000 / fps) ms from the utterance start. A span [S, E] ms covers frames ms_to_frame(S) .. ms_to_frame(E), both
    ends included (SignStream's E is the start of the span's last frame), and an utterance
    of E - S ms has ms_to_frame(E - S) + 1 frames.

    dbt var `frame_convention` chooses how a stored time t ms maps to a frame:
    - `floor` (default, the reference study's convention): floor(t * fps / 1000), the
      frame whose interval contains t as stored.
    - `nearest`: the frame whose start is nearest to t. SignStream stores frame starts in
      whole ms, rounded or truncated (frame 1 = 33.33 ms is stored as 33), so `floor` puts
      about a third of span boundaries one frame early; `nearest` recovers the frame
      SignStream meant. NCSLGR: 180,999 frames with floor, 181,776 with nearest.
-#}
{% macro ms_to_frame(ms, fps='frames_per_second') -%}
    {%- if var('frame_convention') == 'nearest' -%}
    cast(floor((({{ ms }}) * ({{ fps }}) + 500) / 1000.0) as bigint)
    {%- elif var('frame_convention') == 'floor' -%}
    cast(floor(({{ ms }}) * ({{ fps }}) / 1000.0) as bigint)
    {%- else -%}
    {{ exceptions.raise_compiler_error("var frame_convention must be floor or nearest, not " ~ var('frame_convention')) }}
    {%- endif -%}
{%- endmacro %}

{#- The start of frame f in ms from the utterance start (inverse of ms_to_frame). -#}
{% macro frame_to_ms(frame, fps='frames_per_second') -%}
    (({{ frame }}) * 1000.0 / ({{ fps }}))
{%- endmacro %}
