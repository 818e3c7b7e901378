{#-
    The row checks of one model as one test node and one query: `not_null` columns,
    `unique` column combinations (a list of lists) and `expressions` that every row must
    satisfy. A node per check costs dbt's per-node overhead each, which, not the query,
    dominates the tests of a build (bench/bench_profile.py); use it on tables (a view would
    be recomputed by each check). Returns one row per broken check: which, and how many
    rows (or duplicated keys) break it.
-#}
{% test row_checks(model, not_null=[], unique=[], expressions=[]) %}
{%- set checks = [] %}
{%- if not_null %}
{%- do checks.append((
    'not null: ' ~ not_null | join(', '),
    'select count(*) from ' ~ model ~ ' where '
        ~ not_null | join(' is null or ') ~ ' is null'
)) %}
{%- endif %}
{%- for key in unique %}
{%- do checks.append((
    'unique: ' ~ key | join(', '),
    'select count(*) from (select ' ~ key | join(', ') ~ ' from ' ~ model
        ~ ' group by all having count(*) > 1)'
)) %}
{%- endfor %}
{%- for expression in ([expressions] if expressions is string else expressions) %}
{%- do checks.append((
    expression | trim,
    'select count(*) from ' ~ model ~ ' where not coalesce((' ~ expression ~ '), false)'
)) %}
{%- endfor %}
select * from (
    {%- for name, query in checks %}
    select '{{ name | replace("'", "''") }}' as failed_check, ({{ query }}) as n_failing
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)
where n_failing > 0
{% endtest %}
