"""The one place that chains steps: ingest → dbt → train → report, and the FER run."""
