{#-
    The one media-name rule: a SignStream media file's LEGACY-PATH ("Mac HD:...:name.mov")
    names the video file (its last `:` component) and its camera view (master or slaveN
    anywhere in the path, else unknown). stg_signstream__media_files uses it, and
    `cli.py fer --videos` renders it (ingest/fer.py) to match video files before a build.
    Plain Jinja only (no dbt context), so Python can render it.
-#}
{% macro media_file_name(legacy_path) -%}
    regexp_extract({{ legacy_path }}, '[^:]*$')
{%- endmacro %}

{% macro camera_view(legacy_path) -%}
    coalesce(
        nullif(regexp_extract(lower({{ legacy_path }}), '(master|slave[0-9]+)', 1), ''),
        'unknown'
    )
{%- endmacro %}
