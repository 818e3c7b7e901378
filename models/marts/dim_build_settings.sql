{#-
    One row: every build setting (dbt var) this build used, each checked by `setting`
    (macros/build_settings.sql), one column per setting under the var's own name.
-#}
with

final as (
    select
        {%- for name in build_setting_rules() %}
        {{ setting_literal(setting(name)) }} as {{ name }},
        {%- endfor %}
)

select * from final
