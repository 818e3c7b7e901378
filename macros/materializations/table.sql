{#-
    dbt-duckdb's `table` materialization in five statements instead of eight to eleven:
    BEGIN; drop the old relation and create the new one in one statement; describe it and
    write its comments (persist_docs); COMMIT. dbt-duckdb creates `<name>__dbt_tmp`, renames
    the old table to a backup and the new one into place, and drops the backup after the
    commit, querying indexes and constraints on the way; DuckDB's DDL is transactional, so
    dropping and creating inside the model's transaction is as atomic (a failed model leaves
    the old table; readers see it until the commit). dbt's per-statement overhead, not the
    SQL, dominated the small models (bench/bench_profile.py).

    A Python model writes through a cursor of its own, outside the model's transaction, so
    it still creates `<name>__dbt_tmp`, which the transaction renames into place. Contracts,
    sql_header, indexes, grants, hooks and the relation cache are handled as in dbt-duckdb
    (create_table_as, create_indexes, apply_grants, run_hooks); SQL models with foreign keys
    or on DuckLake keep dbt-duckdb's own materialization.
-#}
{% materialization table, adapter='duckdb', supported_languages=['sql', 'python'] %}
  {%- set language = model['language'] -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- if language == 'sql' and ('foreign_key' in enforced_constraint_types()
        or adapter.use_ducklake_table_workarounds(target_relation)) -%}
    {{ return(dbt.materialization_table_duckdb()) }}
  {%- endif -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {#- Left by an interrupted build. -#}
  {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
  {{ drop_relation_if_exists(load_cached_relation(make_backup_relation(target_relation, 'table'))) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {% if language == 'python' %}
    {% call statement('main', language='python') -%}
      {{ create_table_as(False, intermediate_relation, compiled_code, 'python') }}
    {%- endcall %}
  {% endif %}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {% call statement('main' if language == 'sql' else 'swap') -%}
    {%- if existing_relation is not none %}
    drop {{ existing_relation.type }} if exists {{ existing_relation }} cascade;
    {%- endif %}
    {%- if language == 'sql' %}
    {{ create_table_as(False, target_relation, compiled_code) }}
    {%- else %}
    alter table {{ intermediate_relation }} rename to {{ adapter.quote_as_configured(target_relation.identifier, 'identifier') }};
    {%- endif %}
  {%- endcall %}
  {%- if existing_relation is not none and existing_relation.type != 'table' %}
    {% do adapter.cache_dropped(existing_relation) %}
  {%- endif %}
  {% do create_indexes(target_relation) %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do apply_grants(target_relation, config.get('grants'),
                     should_revoke=should_revoke(existing_relation, full_refresh_mode=True)) %}
  {%- set comments = [] -%}
  {%- if config.persist_relation_docs() and model.description -%}
    {%- do comments.append(alter_relation_comment(target_relation, model.description)) -%}
  {%- endif -%}
  {%- if config.persist_column_docs() and model.columns -%}
    {%- do comments.append(alter_column_comment(target_relation, model.columns)) -%}
  {%- endif -%}
  {% if comments %}
    {% call statement('persist_docs') -%}
      {{ comments | join('\n') }}
    {%- endcall %}
  {% endif %}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
