"""Read side: queries, associations, analyses, the HTML report, terminal tables and export.
Reads marts (declared as dbt exposures), never raw or staging tables."""
