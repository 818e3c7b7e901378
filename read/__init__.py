"""Read side: queries, associations, analyses, the HTML report, terminal tables and export.
Reads marts (declared as dbt exposures), never raw, staging or intermediate tables; `status`
alone also describes what raw holds, through `signaffect.core.build_state`."""
