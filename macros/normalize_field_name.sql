{#-
    The one place SignStream field names are normalised. NCSLGR files spell some fields
    differently: trailing carriage returns and spaces ("head mvmt: nod\r"), "head pos:jut"
    for "head pos: jut", and "POS2" / "non-dominant POS" / "nondominant POS" for
    "Non-dominant POS". Everything else is kept exactly as the coding scheme spells it.
-#}
{% macro normalize_field_name(name) -%}
    case trim(regexp_replace({{ name }}, '[\r\n\t]+', ' ', 'g'))
        when 'head pos:jut' then 'head pos: jut'
        when 'POS2' then 'Non-dominant POS'
        when 'non-dominant POS' then 'Non-dominant POS'
        when 'nondominant POS' then 'Non-dominant POS'
        else trim(regexp_replace({{ name }}, '[\r\n\t]+', ' ', 'g'))
    end
{%- endmacro %}
