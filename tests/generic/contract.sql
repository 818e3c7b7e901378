{#-
    Every data rule of one model, checked by one test node in one query: dbt's per-node
    overhead, not the query, dominated the tests of a build when each rule was a node of
    its own (bench/bench_profile.py), and each node scanned the model again.

    - `not_null`: columns that are never null;
    - `unique`: keys (lists of columns) no two rows share; a key's nulls count as values,
      except a key of one column, whose nulls are ignored as dbt's `unique` ignores them
      (keys are compared only among rows whose hash repeats);
    - `accepted_values`: column -> the values it may hold (nulls pass);
    - `among_names`: column -> the name of a list in macros/build_settings.sql (a build
      setting's choices, or a macro such as `feature_kinds`) its values come from;
    - `relationships`: column -> `model.column` every non-null value must be found in;
    - `expressions`: conditions every row must satisfy (null fails);
    - `build_settings`: the model holds one row, and every setting with choices (one_of,
      list_of) holds only those choices.

    Returns one row per broken rule: `failed_check` names it (with its column), and
    `n_failing` counts the rows (or duplicated keys) that break it. Row-wise rules are
    counted in one scan of the model. A view or ephemeral model is computed once for all
    rules (a materialized CTE: 4x faster on NCSLGR's face views); a table is read in place
    (copying a big one costs more than its scans).
-#}
{% test contract(model, not_null=[], unique=[], accepted_values={}, among_names={},
                 relationships={}, expressions=[], build_settings=false) %}
{%- set kinds = graph.get('nodes', {}).values() | selectattr('resource_type', 'equalto', 'model')
    | selectattr('alias', 'equalto', model.identifier) | map(attribute='config.materialized')
    | list %}
{%- set computed = model.type == 'cte' or kinds == ['view'] %}
{%- set rows = 'model_rows' if computed else model %}
{#- Row-wise rules as (name, condition a breaking row meets); the others as (name, count). -#}
{%- set row_rules = [] %}
{%- set table_rules = [] %}
{%- for column in not_null %}
{%- do row_rules.append(('not null: ' ~ column, column ~ ' is null')) %}
{%- endfor %}
{%- for column, values in accepted_values.items() %}
{%- do row_rules.append(('accepted values: ' ~ column,
                         column ~ ' not in (' ~ quoted(values) ~ ')')) %}
{%- endfor %}
{%- for column, names in among_names.items() %}
{%- do row_rules.append(('among ' ~ names ~ ': ' ~ column,
                         column ~ ' not in (' ~ quoted(names_of(names)) ~ ')')) %}
{%- endfor %}
{%- for expression in ([expressions] if expressions is string else expressions) %}
{%- do row_rules.append((expression | trim, 'not coalesce((' ~ expression ~ '), false)')) %}
{%- endfor %}
{%- if build_settings %}
{%- for name, rule in build_setting_rules().items() %}
{%- if 'one_of' in rule %}
{%- do row_rules.append(('setting: ' ~ name, name ~ ' not in (' ~ quoted(rule['one_of']) ~ ')')) %}
{%- elif 'list_of' in rule %}
{%- do row_rules.append(('setting: ' ~ name, 'len(' ~ name ~ ') = 0 or not list_has_all(['
                         ~ quoted(rule['list_of']) ~ '], ' ~ name ~ ')')) %}
{%- endif %}
{%- endfor %}
{%- endif %}
{%- for key in unique %}
{%- set columns = [key] if key is string else key %}
{%- set listed = columns | join(', ') %}
{%- set skip_null = ' where ' ~ columns[0] ~ ' is not null' if columns | length == 1 else '' %}
{#- Keys are grouped only among rows whose hash repeats: grouping one 64-bit hash is
    cheaper than grouping the key's strings (a third less CPU on NCSLGR's 1.8M frame
    features), and the exact count stays exact (a collision is grouped, never counted). -#}
{%- do table_rules.append(('unique: ' ~ listed,
    '(select count(*) from (select ' ~ listed ~ ' from ' ~ rows ~ skip_null
    ~ (' and ' if skip_null else ' where ') ~ 'hash(' ~ listed ~ ') in (select hash(' ~ listed
    ~ ') from ' ~ rows ~ skip_null ~ ' group by all having count(*) > 1)'
    ~ ' group by all having count(*) > 1))')) %}
{%- endfor %}
{%- for column, target in relationships.items() %}
{%- set parent, field = target.split('.') %}
{%- do table_rules.append(('relationship: ' ~ column ~ ' -> ' ~ target,
    '(select count(*) from ' ~ rows ~ ' as child where child.' ~ column ~ ' is not null'
    ~ ' and not exists (select 1 from ' ~ ref(parent) ~ ' as parent where parent.' ~ field
    ~ ' = child.' ~ column ~ '))')) %}
{%- endfor %}
{%- if computed %}
with model_rows as materialized (select * from {{ model }})
{%- endif %}
select checked.failed_check, checked.n_failing
from (
    select unnest([
        {%- if build_settings %}
        {'failed_check': 'one row', 'n_failing': (scan.n_rows != 1)::bigint},
        {%- endif %}
        {%- for name, condition in row_rules %}
        {'failed_check': '{{ name | replace("'", "''") }}', 'n_failing': scan.n_{{ loop.index }}},
        {%- endfor %}
        {%- for name, count in table_rules %}
        {'failed_check': '{{ name | replace("'", "''") }}', 'n_failing': {{ count }}},
        {%- endfor %}
    ]) as checked
    from (
        select count(*) as n_rows
        {%- for name, condition in row_rules %},
            count(*) filter (where {{ condition }}) as n_{{ loop.index }}
        {%- endfor %}
        from {{ rows }}
    ) as scan
)
where checked.n_failing > 0
{% endtest %}
