"""A logistic mixed model fitted by lme4's `glmer` in R: feature ~ label + (1 | signer) +
(1 | gloss) (+ (1 | story) when that model converges), at sign-token grain.

Why R: the reviewer's reference is `glmer` itself, and the estimate must match it to 1e-3.
Two textbook Laplace fits in Python (`mixedlm`, and a numpy one written for this) agree with
each other but not with glmer: on an NCSLGR-sized simulation β was 0.4826 in both against
glmer's 0.4802, because glmer's own deviance function (its PIRLS stopping rule) exceeds the
exact Laplace value by 0.0004-0.01, more as the gloss SD grows, which moves its optimum.
Only glmer gives glmer's numbers, so R (`Rscript` with lme4; Debian `r-cran-lme4`) is a
runtime dependency of `cli.py confirm`, and this is the one module of the floor that runs a
process: it writes one temporary CSV, runs Rscript on it and reads one CSV back.

Every number is glmer's: the fixed effect of the label (log odds ratio) with its Wald SE,
z, p and 95% CI (`summary`; SEs from the finite-difference Hessian, lme4's default), the
random-effect SDs, and convergence: lme4's convergence messages, or the error, are kept;
a singular fit (an SD on 0) converges with that note.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from signaffect.core.errors import SignAffectError

#: Seconds one fit may take before it is reported as not converged.
TIMEOUT_S = 3600
#: A fixed-effect SE above this (log odds) marks separation: glmer "converges" to a huge β
#: (e.g. 79 with SE 9e6 when the label predicts the feature perfectly); not estimable.
SEPARATION_SE = 10.0
INSTALL_HINT = "install R with lme4 (Debian: apt-get install r-cran-lme4)"

_SCRIPT = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c("integer", "integer", rep("character", 3)))
control <- glmerControl(optimizer = "bobyqa")
fit <- function(formula) {
  notes <- character(0)
  keep <- function(text) notes <<- c(notes, trimws(text))
  model <- tryCatch(
    withCallingHandlers(glmer(formula, data = d, family = binomial, control = control),
      warning = function(w) { keep(conditionMessage(w)); invokeRestart("muffleWarning") },
      message = function(m) { keep(conditionMessage(m)); invokeRestart("muffleMessage") }),
    error = function(e) { keep(conditionMessage(e)); NULL })
  failed <- notes[!grepl("singular", notes)]
  list(model = model, notes = unique(notes),
       converged = !is.null(model) && length(failed) == 0 && model@optinfo$conv$opt == 0)
}
result <- fit(y ~ x + (1 | signer) + (1 | gloss) + (1 | story))
with_story <- result$converged
if (!with_story) {
  story_notes <- result$notes
  result <- fit(y ~ x + (1 | signer) + (1 | gloss))
  result$notes <- c(result$notes, paste("with (1 | story):", story_notes))
}
m <- result$model
row <- data.frame(with_story = with_story, converged = result$converged,
                  message = paste(result$notes, collapse = "; "),
                  lme4 = as.character(packageVersion("lme4")))
if (!is.null(m)) {
  co <- summary(m)$coefficients
  sd <- as.data.frame(VarCorr(m))
  sd_of <- function(g) if (g %in% sd$grp) sd$sdcor[sd$grp == g] else NA
  row <- cbind(row, data.frame(
    intercept = co[1, 1], beta = co[2, 1], se = co[2, 2], z = co[2, 3], p = co[2, 4],
    ci_low = co[2, 1] - qnorm(0.975) * co[2, 2], ci_high = co[2, 1] + qnorm(0.975) * co[2, 2],
    sd_signer = sd_of("signer"), sd_gloss = sd_of("gloss"), sd_story = sd_of("story")))
}
write.csv(row, args[2], row.names = FALSE)
"""

#: The columns of one fit, in order, with their types.
FIT_SCHEMA = pa.schema(
    [
        ("with_story", pa.bool_()),
        ("converged", pa.bool_()),
        ("message", pa.string()),
        ("lme4", pa.string()),
    ]
    + [
        (name, pa.float64())
        for name in (
            "intercept",
            "beta",
            "se",
            "z",
            "p",
            "ci_low",
            "ci_high",
            "sd_signer",
            "sd_gloss",
            "sd_story",
        )
    ]
)


def rscript() -> str:
    """The Rscript executable, or a one-line error saying how to install it."""
    found = shutil.which("Rscript")
    if found is None:
        raise SignAffectError(
            "Rscript not found: the mixed model is lme4's glmer, in R", INSTALL_HINT
        )
    return found


def fit_glmer(
    y: np.ndarray, x: np.ndarray, signer: np.ndarray, gloss: np.ndarray, story: np.ndarray
) -> dict[str, object]:
    """glmer's fit of y ~ x + (1|signer) + (1|gloss) (+ (1|story)) for binary y and x, one
    value per FIT_SCHEMA column (the numbers None when glmer failed)."""
    executable = rscript()
    data = pa.table(
        {
            "y": pa.array(np.asarray(y, dtype=np.int64)),
            "x": pa.array(np.asarray(x, dtype=np.int64)),
            "signer": pa.array([str(v) for v in signer]),
            "gloss": pa.array([str(v) for v in gloss]),
            "story": pa.array([str(v) for v in story]),
        }
    )
    with tempfile.TemporaryDirectory(prefix="signaffect-glmer-") as tmp:
        folder = Path(tmp)
        pacsv.write_csv(data, folder / "data.csv")
        (folder / "fit.R").write_text(_SCRIPT, encoding="utf-8")
        try:
            done = subprocess.run(
                [executable, "--vanilla", str(folder / "fit.R"), str(folder / "data.csv"),
                 str(folder / "fit.csv")],
                capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
            )
        except subprocess.TimeoutExpired:
            return _failed(f"glmer did not finish in {TIMEOUT_S} s")
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise SignAffectError(
                f"Rscript failed: {lines[-1] if lines else done.returncode}", INSTALL_HINT
            )
        table = pacsv.read_csv(folder / "fit.csv")
    row = table.to_pylist()[0]
    fit = {name: row.get(name) for name in FIT_SCHEMA.names}
    se = fit["se"]
    if isinstance(se, float) and se > SEPARATION_SE:
        fit["converged"] = False
        fit["message"] = "; ".join(
            filter(None, [f"not estimable: separation (SE of β {se:.3g})", fit["message"]])
        )
    return fit


def _failed(message: str) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(FIT_SCHEMA.names)
    row.update(with_story=False, converged=False, message=message)
    return row
