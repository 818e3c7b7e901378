{#-
    Fails unless the model has exactly one row and every setting with choices
    (macros/build_settings.sql: one_of, list_of) holds only those choices: the recorded
    settings are the ones the build could have used.
-#}
{% test build_settings_hold(model) %}
select 'not one row' as problem
from (select count(*) as n_rows from {{ model }})
where n_rows != 1
{%- for name, rule in build_setting_rules().items() %}
{%- if 'one_of' in rule %}
union all
select '{{ name }}' from {{ model }} where {{ name }} not in ({{ quoted(rule['one_of']) }})
{%- elif 'list_of' in rule %}
union all
select '{{ name }}' from {{ model }}
where len({{ name }}) = 0 or not list_has_all([{{ quoted(rule['list_of']) }}], {{ name }})
{%- endif %}
{%- endfor %}
{% endtest %}
