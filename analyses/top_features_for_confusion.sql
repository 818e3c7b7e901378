-- The 10 SignStream features that go with signs labelled `empath:confusion`, ranked by the
-- lower 95% bound of the odds ratio. Compile with `dbt compile` and run
-- target/compiled/signaffect/analyses/ (or: cli.py top empath:confusion).
{{ top_features_for_label('empath:confusion', k=10, grain='sign', family='signstream') }}
