"""Train and evaluate face → lexical-emotion models on the ML marts (`cli.py train`).

ml reads the marts and writes ml_* through `signaffect.core` only: it never runs dbt (the
pipeline, `pipeline.training`, rebuilds a mart first when asked for another scope
or input set) and never imports ingest. The terminal tables of a run are
`read.training_tables`.

    options     the CLI's choices as str Enums (no heavy imports)
    data        read ml_frame_matrix / ml_sign_token_matrix read-only, check, one-hot encode
    labelsets   named label sets: all, the study's 18 Empath labels, or a list
    collapse    identical rows → distinct rows weighted by count (what is exact, and why)
    bagging     the per-frame forest's own trees, grown on the distinct rows, a batch at a time
    model       the random forest, the logistic-regression comparator and the baselines
    splits      story (default) / signer / utterance grouped CV, and the study's leaky kfold
    lookup      predict every input a fold is asked about once, a few trees at a time
    importance  permutation importance on held-out folds, once per distinct row (beside
                impurity importance)
    oof         pooled out-of-fold predictions with their story and fold; the baselines' names
    metrics     per-label and micro / macro / weighted scores from pooled out-of-fold output
    verdict     story-bootstrap CIs of model vs the label-prior and all-positive baselines,
                and the reading
    precision   per-label average precision against prevalence, same story bootstrap
    oof_rows    the out-of-fold predictions as rows (Parquet, ml_oof_predictions), and the
                verdict recomputed from them
    permutation the story-permutation test of the verdict
    train       the run: load the mart, CV, verdict, final fit, record
    recording   check that a run can be recorded, record it, or load a saved run later
    results     ml_runs / ml_label_metrics / ml_fold_metrics / ml_feature_importance /
                ml_oof_predictions, artefacts
"""
