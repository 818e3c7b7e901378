{#-
    The one place milliseconds become frames (spans, utterances and the FER video link).

    `fps` is a column (default `frames_per_second`, which every raw row carries from its
    file: 30 for SignStream, the mapping's rate for ELAN, --fps for DAI 2), so a mixed
    corpus expands each file at its own rate. Frame f of an utterance covers
    [f * 1000 / fps, (f + 1) * 1000 / fps) ms from the utterance start. A span [S, E] ms
    covers frames ms_to_frame(S) .. ms_to_frame(E), both
    ends included (SignStream's E is the start of the span's last frame), and an utterance
    of E - S ms has utterance_n_frames(E - S) = ms_to_frame(E - S) + 1 frames.

    dbt var `frame_convention` chooses how a stored time t ms maps to a frame:
    - `floor` (default): floor(t * fps / 1000), the frame whose interval contains t as
      stored; a 1e-6 frame tolerance keeps a time exactly on a boundary (a computed frame
      start such as 100 + 5 * 1000 / 30 ms) from slipping one frame early through
      floating-point rounding (whole ms at a whole frame rate never come that close).
      NCSLGR: 180,999 frames.
    The FER and face links (macro `utterance_frames_in_video`) find the video frame that
    shows an utterance frame with this macro too, at the video's own frame rate, so by
    default `fct_frames.media_frame` is the video frame FER analysed.
    - `nearest`: the frame whose start is nearest to t. SignStream stores frame starts in
      whole ms, rounded or truncated (frame 1 = 33.33 ms is stored as 33): on NCSLGR a
      third of all stored times lie 10-20 ms below a frame start (t * 30 mod 1000 is 980
      or 990), and floor puts each of those boundaries one frame early; `nearest` recovers
      the frame SignStream meant. It is the better reading of span boundaries; floor stays
      the default, the convention of the recorded results. NCSLGR: 181,777 frames.
    - `study`: the reference study's count, frames of a whole 33 ms: floor(t / 33) (at
      30 fps; 1000 // fps in general), and an utterance of E - S ms has (E - S) // 33
      frames (its last, partial frame not counted; at least 1). NCSLGR: 180,666 frames,
      against the study's reported 180,669. A 33 ms frame drifts one frame from the video
      every ~3.3 s, so use it to reproduce the study's numbers, not to link video.
    Floor is not the study's convention: it gives 180,999.
-#}
{% macro ms_to_frame(ms, fps='frames_per_second') -%}
    {%- set convention = setting('frame_convention') -%}
    {%- if convention == 'nearest' -%}
    cast(floor((({{ ms }}) * ({{ fps }}) + 500) / 1000.0) as bigint)
    {%- elif convention == 'floor' -%}
    cast(floor(({{ ms }}) * ({{ fps }}) / 1000.0 + 1e-6) as bigint)
    {%- else -%}
    cast(floor(({{ ms }}) / floor(1000.0 / ({{ fps }}))) as bigint)
    {%- endif -%}
{%- endmacro %}

{#- Frames of an utterance lasting `duration_ms` (see above). -#}
{% macro utterance_n_frames(duration_ms, fps='frames_per_second') -%}
    {%- if setting('frame_convention') == 'study' -%}
    greatest({{ ms_to_frame(duration_ms, fps) }}, 1)
    {%- else -%}
    {{ ms_to_frame(duration_ms, fps) }} + 1
    {%- endif -%}
{%- endmacro %}

{#- The start of frame f in ms from the utterance start (inverse of ms_to_frame). -#}
{% macro frame_to_ms(frame, fps='frames_per_second') -%}
    {%- if setting('frame_convention') == 'study' -%}
    (({{ frame }}) * floor(1000.0 / ({{ fps }})) * 1.0)
    {%- else -%}
    (({{ frame }}) * 1000.0 / ({{ fps }}))
    {%- endif -%}
{%- endmacro %}
