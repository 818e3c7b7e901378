"""Pure statistics (numpy/scipy, no I/O): cluster bootstrap, within-cluster permutation,
odds ratios. The dbt Python model and the read side both call it."""
