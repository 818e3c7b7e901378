{#-
    One row: every build setting (dbt var) this build used, each checked by `setting`
    (macros/build_settings.sql), one column per setting under the var's own name.
-#}
with

{%- set rules = build_setting_rules() %}
final as (
    select
        {%- for name in rules %}
        {{ setting_literal(setting(name, rules)) }} as {{ name }},
        {%- endfor %}
)

select * from final
