-- The study's Table 1: the 10 features most probable in frames labelled `empath:negative_emotion`.
-- Compile with `dbt compile` and run target/compiled/signaffect/analyses/ (or: cli.py top empath:negative_emotion).
{{ top_features_for_label('empath:negative_emotion', k=10) }}
