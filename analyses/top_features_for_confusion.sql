-- The study's Table 2: the 10 features most probable in frames labelled `empath:confusion`.
-- Compile with `dbt compile` and run target/compiled/signaffect/analyses/ (or: cli.py top empath:confusion).
{{ top_features_for_label('empath:confusion', k=10) }}
