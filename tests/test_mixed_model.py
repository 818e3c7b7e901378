"""The mixed-model confirmation: the engine against a plain lme4 `glmer` call in R (CI
installs r-cran-lme4, so these run there and never skip), non-convergence and separation
said in words, a missing Rscript as one line, and `cli.py confirm` storing its fits once
and `cli.py top` showing them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from cli import app
from read.confirmations import FAILS, SURVIVES, TABLE
from signaffect.core.errors import SignAffectError
from signaffect.stats.glmer import fit_glmer
from tests.conftest import rows

runner = CliRunner()

#: A plain glmer fit, written without the engine's code: β, SE and the SD of each group.
REFERENCE_R = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c("integer", "integer", rep("character", 3)))
m <- glmer(as.formula(args[2]), data = d, family = binomial)
co <- summary(m)$coefficients
vc <- as.data.frame(VarCorr(m))
cat(sprintf("%.10f", co["x", 1]), sprintf("%.10f", co["x", 2]), "\n")
for (i in seq_len(nrow(vc))) cat(vc$grp[i], sprintf("%.10f", vc$sdcor[i]), "\n")
"""


def simulated(seed: int = 3, n: int = 2500) -> dict[str, np.ndarray]:
    """Sign tokens of 6 signers, 250 glosses and 16 stories with crossed random intercepts
    (SDs 0.5, 1.0, 0.3) and a label effect of 0.6 on the log odds of the feature."""
    rng = np.random.default_rng(seed)
    signer = rng.integers(0, 6, n)
    gloss = rng.integers(0, 250, n)
    story = rng.integers(0, 16, n)
    x = (rng.random(n) < 0.15).astype(np.int64)
    eta = (
        -1.5 + 0.6 * x + rng.normal(0, 0.5, 6)[signer] + rng.normal(0, 1.0, 250)[gloss]
        + rng.normal(0, 0.3, 16)[story]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.int64)
    return {
        "y": y,
        "x": x,
        "signer": np.array([f"s{v}" for v in signer]),
        "gloss": np.array([f"g{v}" for v in gloss]),
        "story": np.array([f"t{v}" for v in story]),
    }


def reference_glmer(data: dict[str, np.ndarray], formula: str, folder: Path) -> dict[str, float]:
    pacsv.write_csv(pa.table({k: pa.array(list(v)) for k, v in data.items()}), folder / "d.csv")
    (folder / "ref.R").write_text(REFERENCE_R, encoding="utf-8")
    out = subprocess.run(
        ["Rscript", "--vanilla", str(folder / "ref.R"), str(folder / "d.csv"), formula],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")
    beta, se = (float(v) for v in out[0].split())
    sds = {line.split()[0]: float(line.split()[1]) for line in out[1:] if line.strip()}
    return {"beta": beta, "se": se} | {f"sd_{g}": sd for g, sd in sds.items()}


def test_engine_matches_glmer(tmp_path: Path) -> None:
    data = simulated()
    fit = fit_glmer(data["y"], data["x"], data["signer"], data["gloss"], data["story"])
    assert fit["converged"], fit["message"]
    story = " + (1 | story)" if fit["with_story"] else ""
    ref = reference_glmer(data, f"y ~ x + (1 | signer) + (1 | gloss){story}", tmp_path)
    assert fit["beta"] == pytest.approx(ref["beta"], abs=1e-3)
    assert fit["se"] == pytest.approx(ref["se"], rel=0.02)
    for group in ("signer", "gloss") + (("story",) if story else ()):
        assert fit[f"sd_{group}"] == pytest.approx(ref[f"sd_{group}"], abs=1e-3)
    # The Wald statistics follow from β and SE, and the simulated effect is recovered.
    beta, se, low, high = (float(str(fit[k])) for k in ("beta", "se", "ci_low", "ci_high"))
    assert fit["z"] == pytest.approx(beta / se)
    assert low == pytest.approx(beta - 1.959964 * se, abs=1e-6)
    assert low < 0.6 < high


def test_failures_are_said_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    data = simulated(n=400)
    constant = fit_glmer(np.zeros(400), data["x"], data["signer"], data["gloss"], data["story"])
    assert not constant["converged"] and constant["beta"] is None
    assert "Response is constant" in str(constant["message"])
    separated = fit_glmer(data["x"], data["x"], data["signer"], data["gloss"], data["story"])
    assert not separated["converged"]
    assert str(separated["message"]).startswith("not estimable: separation")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SignAffectError, match="Rscript not found") as error:
        fit_glmer(data["y"], data["x"], data["signer"], data["gloss"], data["story"])
    assert "r-cran-lme4" in str(error.value.hint)


def test_cli_confirm_stores_once_and_top_shows_it(sample_db: Path, tmp_path: Path) -> None:
    # A copy: the session's sample warehouse must keep only dbt's tables (the fingerprint).
    sample_db = Path(shutil.copy(sample_db, tmp_path / "warehouse.duckdb"))
    label = rows(
        sample_db,
        "select label from fct_label_feature_rankings where grain = 'sign' "
        "and ranked_by = 'ci' and feature_family = 'signstream' "
        "group by label order by count(*) desc, label limit 1",
    )[0][0]
    base = ["--db", str(sample_db), "--quiet", "confirm", label, "--k", "2"]
    for _ in range(2):
        result = runner.invoke(app, [*base, "--format", "csv"])
        assert result.exit_code == 0, result.output
    stored = rows(
        sample_db,
        f"select feature, rank, n_tokens, n_both, converged, survives, beta, ci_low "
        f"from {TABLE} where label = '{label}' order by rank",
    )
    assert [r[1] for r in stored] == [1, 2]  # the re-run replaced, never duplicated
    ranked = rows(
        sample_db,
        f"select feature, n_units, n_both from fct_label_feature_rankings where grain = "
        f"'sign' and ranked_by = 'ci' and feature_family = 'signstream' and label = '{label}' "
        f"order by rank limit 2",
    )
    assert [(r[0], r[2], r[3]) for r in stored] == ranked  # the tokens the mart counts
    for row in stored:
        assert row[5] == bool(row[4] and row[7] > 0)
    top = runner.invoke(app, ["--db", str(sample_db), "top", label, "--format", "json", "--k", "2"])
    assert top.exit_code == 0, top.output
    assert '"mixed_note"' in top.stdout
    assert any(note in top.stdout for note in (SURVIVES, FAILS, "did not converge"))


def check_head_tilt(db: Path) -> None:
    """On NCSLGR, positive emotion's top head feature (head tilted slightly back, after the
    label rules) is refitted over exactly the tokens the mart counts (the eligible comparison
    set) and survives the sign's random effect."""
    result = runner.invoke(
        app, ["--db", str(db), "--quiet", "confirm", "empath:positive_emotion", "--k", "1",
              "--kind", "head", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    fit = rows(
        db,
        f"select feature, n_tokens, n_both, n_label, n_glosses, converged, survives, beta, "
        f"ci_low from {TABLE} where label = 'empath:positive_emotion'",
    )
    assert len(fit) == 1
    feature, n_tokens, n_both, n_label, n_glosses, converged, survives, beta, low = fit[0]
    assert feature == "head pos: tilt fr/bk=slightly back"
    mart = rows(
        db,
        "select n_units, n_both, n_label from fct_label_feature_associations where grain = "
        f"'sign' and label = 'empath:positive_emotion' and feature = '{feature}'",
    )
    assert [(n_tokens, n_both, n_label)] == mart and n_glosses > 1000
    assert converged and survives and low > 0 and 0.5 < beta < 2


def test_positive_emotion_head_tilt_survives_on_the_corpus(
    corpus_db: Path, tmp_path: Path
) -> None:
    check_head_tilt(Path(shutil.copy(corpus_db, tmp_path / "ncslgr.duckdb")))
