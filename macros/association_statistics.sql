{#-
    Statistics of a 2×2 contingency table of frames, for feature pairs (a, b):

                    b present         b absent
      a present     n_ab              n_a − n_ab
      a absent      n_b − n_ab        n_total − n_a − n_b + n_ab

    All arguments are SQL expressions; counts are cast to double before any product.
-#}

{#- x · ln(x / e), with 0 · ln 0 = 0 (one cell's term of G²). -#}
{% macro _g2_cell(observed, expected) -%}
    case
        when ({{ observed }}) > 0
            then ({{ observed }}) * ln(({{ observed }}) / ({{ expected }}))
        else 0.0
    end
{%- endmacro %}

{#-
    G² log-likelihood ratio statistic of the 2×2 table: 2 Σ O · ln(O / E), where
    E = row total × column total / n_total, and a zero cell contributes 0 (0 · ln 0 = 0).
-#}
{% macro g2_statistic(n_ab, n_a, n_b, n_total) -%}
    {%- set n = 'cast(' ~ n_total ~ ' as double)' -%}
    {%- set a = 'cast(' ~ n_a ~ ' as double)' -%}
    {%- set b = 'cast(' ~ n_b ~ ' as double)' -%}
    {%- set ab = 'cast(' ~ n_ab ~ ' as double)' -%}
    greatest(0.0, 2.0 * (
        {{ _g2_cell(ab, a ~ ' * ' ~ b ~ ' / ' ~ n) }}
        + {{ _g2_cell(a ~ ' - ' ~ ab, a ~ ' * (' ~ n ~ ' - ' ~ b ~ ') / ' ~ n) }}
        + {{ _g2_cell(b ~ ' - ' ~ ab, '(' ~ n ~ ' - ' ~ a ~ ') * ' ~ b ~ ' / ' ~ n) }}
        + {{ _g2_cell(n ~ ' - ' ~ a ~ ' - ' ~ b ~ ' + ' ~ ab,
                      '(' ~ n ~ ' - ' ~ a ~ ') * (' ~ n ~ ' - ' ~ b ~ ') / ' ~ n) }}
    ))
{%- endmacro %}

{#-
    erfc(z) for z >= 0, by the Chebyshev-fitted approximation `erfcc` of Press, Teukolsky,
    Vetterling & Flannery, Numerical Recipes in C, 2nd ed. (1992), §6.2: fractional error
    below 1.2e-7 everywhere. DuckDB has no erf/erfc function. tests/test_associations.py
    checks it against scipy.special.erfc.
-#}
{% macro erfc(z) -%}
    (
        (1.0 / (1.0 + 0.5 * ({{ z }})))
        * exp(
            -({{ z }}) * ({{ z }}) - 1.26551223
            + (1.0 / (1.0 + 0.5 * ({{ z }}))) * (1.00002368
            + (1.0 / (1.0 + 0.5 * ({{ z }}))) * (0.37409196
            + (1.0 / (1.0 + 0.5 * ({{ z }}))) * (0.09678418
            + (1.0 / (1.0 + 0.5 * ({{ z }}))) * (-0.18628806
            + (1.0 / (1.0 + 0.5 * ({{ z }}))) * (0.27886807
            + (1.0 / (1.0 + 0.5 * ({{ z }}))) * (-1.13520398
            + (1.0 / (1.0 + 0.5 * ({{ z }}))) * (1.48851587
            + (1.0 / (1.0 + 0.5 * ({{ z }}))) * (-0.82215223
            + (1.0 / (1.0 + 0.5 * ({{ z }}))) * 0.17087277))))))))
        )
    )
{%- endmacro %}

{#- Upper tail P(X ≥ x) of the chi-square distribution with 1 df: erfc(sqrt(x / 2)). -#}
{% macro chi2_1df_pvalue(x) -%}
    least(1.0, {{ erfc('sqrt(greatest(0.0, ' ~ x ~ ') / 2.0)') }})
{%- endmacro %}

{#-
    Benjamini–Hochberg q-value of `p_value` over every row of the relation in scope:
    q_(i) = min over ranks j ≥ i of p_(j) · m / j, capped at 1 (monotone in p), and never
    below p_(i): p · m / m can round one ulp under p.
    Use in a select over all tested rows; m is the number of rows.
-#}
{% macro bh_rank(p_value) -%}
    row_number() over (order by {{ p_value }})
{%- endmacro %}

{% macro bh_qvalue(p_value, rank, m) -%}
    greatest({{ p_value }}, least(1.0, min(({{ p_value }}) * ({{ m }}) / ({{ rank }})) over (
        order by {{ rank }} desc
        rows between unbounded preceding and current row
    )))
{%- endmacro %}
