{#-
    One row per build setting × value it may take, from the rules of macros/build_settings.sql:
    the dbt side's choices as a table, so the CLI and its tests can hold their own lists to
    these.
-#}
{%- set choices = [] -%}
{%- for name, rule in build_setting_rules().items() -%}
    {%- for choice in rule.get('one_of', rule.get('list_of', [])) -%}
        {%- do choices.append((name, choice, 'list_of' in rule)) -%}
    {%- endfor -%}
{%- endfor -%}

with

final as (
    select * from (values
        {%- for name, choice, takes_a_list in choices %}
        ('{{ name }}', '{{ choice }}', {{ takes_a_list | string | lower }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as choices (setting, choice, takes_a_list)
)

select * from final
