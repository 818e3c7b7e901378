"""Ground floor: errors, settings, the warehouse connection and its one Arrow-insert and
transaction helper, the dbt runner, progress and output formats. Imports nothing above it."""
