{#-
    Rows whose `column_name` is not one of `names` fail: the choices of that build setting
    (`lexical_scope`) or the list a macro returns (`feature_kinds`, `feature_roles`), all in
    macros/build_settings.sql, so a seed or a mart never restates a list of names.
-#}
{% test among_names(model, column_name, names) %}
{%- set rule = build_setting_rules().get(names, {}) -%}
{%- set values = rule.get('one_of') or rule.get('list_of') or context[names]() -%}
select *
from {{ model }}
where {{ column_name }} not in ({{ quoted(values) }})
{% endtest %}
