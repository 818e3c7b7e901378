{#-
    Rows where `expression` is false fail the test (nulls fail too). `expression` may be a
    list of invariants of one model: they are checked by one test node (dbt's per-node
    overhead, not the query, dominates `dbt build`), and every failing row names the
    expression it breaks in column `failed_expression`.
-#}
{% test expression_is_true(model, expression, column_name=none) %}
{%- set expressions = [expression] if expression is string else expression %}
{%- for check in expressions %}
select '{{ check | replace("'", "''") | trim }}' as failed_expression, *
from {{ model }}
where not coalesce(({{ check }}), false)
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% endtest %}
