{#- Rows where `expression` is false fail the test (nulls fail too unless excluded by where). -#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
