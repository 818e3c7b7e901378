{#-
    Generic test: no two rows of `model` share the same values in all of
    `combination_of_columns`. Returns one row per duplicated combination (with its
    count); the test passes when nothing is returned. NULLs group together, so a
    NULL in a key column counts as a value (e.g. one unmapped row per feature in
    facs_action_units, whose au_code is NULL).

    Usage (dbt 1.11):
      data_tests:
        - unique_combination_of_columns:
            arguments:
              combination_of_columns: [feature, au_code]
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set key_columns = combination_of_columns | join(', ') %}

select
    {{ key_columns }},
    count(*) as n_duplicates
from {{ model }}
group by {{ key_columns }}
having count(*) > 1

{% endtest %}
