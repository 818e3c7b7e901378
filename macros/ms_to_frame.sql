{#-
    The one place milliseconds become frames.

    `fps` is a column (default `frames_per_second`, which every raw row carries from its
    file: 30 for SignStream, the mapping's rate for ELAN, --fps for DAI 2), so a mixed
    corpus expands each file at its own rate. Frame f of an utterance covers
    [f * 1000 / fps, (f + 1) * 1000 / fps) ms from the utterance start. A span [S, E] ms
    covers frames ms_to_frame(S) .. ms_to_frame(E), both
    ends included (SignStream's E is the start of the span's last frame), and an utterance
    of E - S ms has utterance_n_frames(E - S) = ms_to_frame(E - S) + 1 frames.

    dbt var `frame_convention` chooses how a stored time t ms maps to a frame:
    - `floor` (default): floor(t * fps / 1000), the frame whose interval contains t as
      stored. It is the rule the FER link uses to find the video frame that shows an
      utterance frame (`fct_fer_frames`, at the video's own frame rate), so by default
      `fct_frames.media_frame` is the video frame FER analysed. NCSLGR: 180,999 frames.
    - `nearest`: the frame whose start is nearest to t. SignStream stores frame starts in
      whole ms, rounded or truncated (frame 1 = 33.33 ms is stored as 33): on NCSLGR a
      third of all stored times lie 10-20 ms below a frame start (t * 30 mod 1000 is 980
      or 990), and floor puts each of those boundaries one frame early; `nearest` recovers
      the frame SignStream meant. It is the better reading of span boundaries; it is not
      the default because the FER video-frame link would have to move with it (see
      README). NCSLGR: 181,777 frames.
    - `study`: the reference study's count, frames of a whole 33 ms: floor(t / 33) (at
      30 fps; 1000 // fps in general), and an utterance of E - S ms has (E - S) // 33
      frames (its last, partial frame not counted; at least 1). NCSLGR: 180,666 frames,
      against the study's reported 180,669. A 33 ms frame drifts one frame from the video
      every ~3.3 s, so use it to reproduce the study's numbers, not to link video.
    Floor is not the study's convention: it gives 180,999.
-#}
{% macro ms_to_frame(ms, fps='frames_per_second') -%}
    {%- if var('frame_convention') == 'nearest' -%}
    cast(floor((({{ ms }}) * ({{ fps }}) + 500) / 1000.0) as bigint)
    {%- elif var('frame_convention') == 'floor' -%}
    cast(floor(({{ ms }}) * ({{ fps }}) / 1000.0) as bigint)
    {%- elif var('frame_convention') == 'study' -%}
    cast(floor(({{ ms }}) / floor(1000.0 / ({{ fps }}))) as bigint)
    {%- else -%}
    {{ exceptions.raise_compiler_error("var frame_convention must be floor, nearest or study, not " ~ var('frame_convention')) }}
    {%- endif -%}
{%- endmacro %}

{#- Frames of an utterance lasting `duration_ms` (see above). -#}
{% macro utterance_n_frames(duration_ms, fps='frames_per_second') -%}
    {%- if var('frame_convention') == 'study' -%}
    greatest({{ ms_to_frame(duration_ms, fps) }}, 1)
    {%- else -%}
    {{ ms_to_frame(duration_ms, fps) }} + 1
    {%- endif -%}
{%- endmacro %}

{#- The start of frame f in ms from the utterance start (inverse of ms_to_frame). -#}
{% macro frame_to_ms(frame, fps='frames_per_second') -%}
    {%- if var('frame_convention') == 'study' -%}
    (({{ frame }}) * floor(1000.0 / ({{ fps }})) * 1.0)
    {%- else -%}
    (({{ frame }}) * 1000.0 / ({{ fps }}))
    {%- endif -%}
{%- endmacro %}

{#-
    The video frame showing media time `ms` in a video of `fps` frames a second: video frame
    v covers [v·1000/fps, (v+1)·1000/fps) ms, whatever var frame_convention says (that var
    places annotation times on utterance frames; this places an utterance frame's start,
    fct_frames.media_time_ms, in the video). The 1e-6 frame tolerance keeps a start lying
    exactly on a boundary (1900 ms + 1000/30 ms at 30 fps) from slipping one frame early
    through floating-point rounding. fct_fer_frames and fct_face_frames both link by it.
-#}
{% macro video_frame_at(ms, fps) -%}
    cast(floor(({{ ms }}) * ({{ fps }}) / 1000.0 + 1e-6) as integer)
{%- endmacro %}
