{#-
    Rows where any of `columns` is null fail the test. One query per model instead of one
    not_null test per column: the staging views are re-read by every test, and dbt's
    per-test overhead dominates `dbt build` on them.
-#}
{% test not_null_columns(model, columns) %}
select *
from {{ model }}
where {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
