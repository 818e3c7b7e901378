"""Train and evaluate face → lexical-emotion models on the ML mart (`cli.py train`).

    options   the CLI's choices as str Enums (no heavy imports)
    data      read ml_frame_matrix read-only, check its columns, one-hot encode the lists
    collapse  identical frames → distinct rows weighted by count (what is exact, and why)
    bagging   the per-frame forest's own trees, grown on the distinct rows
    splits    kfold (the study's, leaky) and story / signer / utterance grouped CV
    model     the multi-output random forest and the stratified / majority baselines
    metrics   per-label and micro / macro / weighted scores from pooled out-of-fold output
    train     the run: rebuild the mart if needed, CV, final fit, record
    results   ml_runs / ml_label_metrics / ml_feature_importance and artifacts/<run_id>/
    report    rich tables shaped like the study's Tables 3 and 4
"""
