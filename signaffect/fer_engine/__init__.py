"""The FER engine: face detection, the emotion model, video decoding, work units and the
engines that run them, with Parquet shards as their output. No DuckDB: ingest loads results."""
