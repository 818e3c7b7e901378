{#-
    Rows where any of `columns` is null fail the test. One test node per model instead of
    one not_null test per column: dbt's per-node overhead, not the query, dominates
    `dbt build`, and a view is re-read by every test on it.
-#}
{% test not_null_columns(model, columns) %}
select *
from {{ model }}
where {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
