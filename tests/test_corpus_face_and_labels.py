"""On NCSLGR: only the face by default, the eligible comparison set, and where labels come
from (quoted descriptions, negation, the sense review of seed label_review)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.gloss_normalize import DESCRIPTION, gloss_words_and_source
from ingest.lexicon_hits import NCSLGR_PERSON_NAMES
from read.associations import top_features
from signaffect.core.dbt_runner import run_dbt
from signaffect.core.settings import PROJECT_DIR
from tests.conftest import TEST_DBT_VARS, rows, scalar

pytestmark = pytest.mark.corpus

LABELS = ("empath:negative_emotion", "empath:positive_emotion")


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("family", ["signstream", "au"])
def test_default_top_lists_only_face_features(corpus_db: Path, label: str, family: str) -> None:
    table = top_features(corpus_db, label, family=family, k=50).table
    assert table.num_rows > 0
    assert set(table["role"].to_pylist()) == {"face"}
    assert not {"pos", "gloss", "grammatical", "body"} & set(table["kind"].to_pylist())
    lexical = top_features(corpus_db, label, family="signstream", k=50, role="lexical").table
    assert "pos" in set(lexical["kind"].to_pylist())  # asked for, the word's features are there


def test_roles_come_from_the_seeds(corpus_db: Path) -> None:
    found = dict(
        rows(
            corpus_db,
            "select role, list(distinct feature_kind order by feature_kind) from dim_features "
            "group by role",
        )
    )
    assert found["lexical"] == ["au", "facial", "gloss", "pos"]  # AU50 and mouthing: the word
    assert found["face"] == ["au", "facial", "head"]
    assert found["grammar"] == ["grammatical"]
    assert scalar(
        corpus_db, "select role from dim_features where feature = 'AU50 speech'"
    ) == "lexical"


@pytest.mark.parametrize("matrix", ["ml_frame_matrix", "ml_sign_token_matrix"])
def test_training_inputs_are_face_features(corpus_db: Path, matrix: str) -> None:
    found = rows(
        corpus_db,
        f"""
        select f.role, f.feature_kind, count(distinct f.feature)
        from (select distinct unnest(input_features) as feature from {matrix}) i
        join dim_features f using (feature)
        group by all
        """,
    )
    assert found and {role for role, _, _ in found} == {"face"}
    assert not {"pos", "gloss"} & {kind for _, kind, _ in found}


def _eligible(gloss: str) -> bool:
    """A sign could carry a label: its gloss gives a looked-up word that is the sign's own."""
    words, source = gloss_words_and_source(gloss)
    return source != DESCRIPTION and any(w not in NCSLGR_PERSON_NAMES for w in words)


def test_eligible_comparison_counts_equal_a_slow_count(corpus_db: Path) -> None:
    tokens = rows(corpus_db, "select sign_token_id, source_file, gloss from fct_sign_tokens")
    eligible = {token for token, _, gloss in tokens if _eligible(gloss or "")}
    units = "select unit_key from fct_association_units where grain = 'sign'"
    compared = {key for (key,) in rows(corpus_db, units)}
    assert compared == eligible
    counts = rows(
        corpus_db,
        "select comparison_set, n_units_all, n_units_eligible, n_units_compared "
        "from fct_association_comparison_sets where grain = 'sign'",
    )
    assert counts == [("eligible", len(tokens), len(eligible), len(eligible))]
    assert len(tokens) - len(eligible) > 3000  # pointing, classifiers, names, descriptions
    # A feature's units: the eligible tokens of the files that code its field.
    feature = "head pos: jut=back"
    coded = {f for (f,) in rows(
        corpus_db, f"select source_file from fct_feature_coverage where feature = '{feature}'"
    )}  # fmt: skip
    n_units = scalar(
        corpus_db,
        "select n_units from fct_label_feature_associations where grain = 'sign' "
        f"and label = 'empath:positive_emotion' and feature = '{feature}'",
    )
    assert n_units == sum(1 for t, f, g in tokens if t in eligible and f in coded)


def test_a_quoted_description_carries_no_label(corpus_db: Path) -> None:
    found = rows(
        corpus_db,
        """
        select t.gloss, t.lexical_labels, c.label_source, c.excluded_by
        from fct_sign_tokens t
        join intermediate.int_lexicon_hits_classified c
          on c.source_file = t.source_file and c.annotation_id = t.annotation_id
        where c.label = 'empath:confusion' and t.gloss like '%5"perplexed"%'
        """,
    )
    assert len(found) == 7
    for gloss, labels, source, excluded_by in found:
        assert source == "description" and excluded_by == "description", gloss
        assert "empath:confusion" not in labels


def test_a_negated_token_loses_its_label(corpus_db: Path) -> None:
    """Tokens overlapping the span proper of a `negative` marker (counted here from the
    annotation spans, not from the model's frames) lose the label their word gives."""
    negated = rows(
        corpus_db,
        """
        select distinct t.sign_token_id, h.label, t.lexical_labels
        from fct_sign_tokens t
        join fct_annotation_spans n
          on n.source_file = t.source_file and n.utterance_id = t.utterance_id
          and n.field_name = 'negative' and not n.is_transition
          and n.start_frame <= t.end_frame and t.start_frame <= n.end_frame
        join raw.lexicon_hits h
          on h.source_file = t.source_file and h.annotation_id = t.annotation_id
        where h.scope = 'sign'
        """,
    )
    assert len(negated) > 20
    assert all(label not in labels for _, label, labels in negated)
    # The strongest "negative-emotion head feature" of the issue: LOSE, VOMIT/HATE, HARD.
    glosses = rows(
        corpus_db,
        "select gloss, n_in_negation_span from fct_lexical_label_glosses "
        "where label = 'empath:negative_emotion' and n_in_negation_span > 0 order by gloss",
    )
    assert {"LOSE", "VOMIT-HATE", "HARD"} <= {gloss for gloss, _ in glosses}


def test_the_review_covers_every_frequent_gloss_of_the_study_labels(corpus_db: Path) -> None:
    from ml.labelsets import STUDY_LABELS

    missing = rows(
        corpus_db,
        """
        select label, gloss, label_source, n_tokens from fct_lexical_label_glosses
        where list_contains($labels, label) and n_tokens >= 3 and review_decision is null
        """.replace("$labels", str(list(STUDY_LABELS))),
    )
    assert missing == []


def _project_copy(tmp_path: Path) -> Path:
    """The dbt project in `tmp_path`, so a test can edit its seeds."""
    project = tmp_path / "project"
    for name in ("models", "macros", "seeds", "analyses"):
        shutil.copytree(PROJECT_DIR / name, project / name)
    shutil.copytree(PROJECT_DIR / "tests/generic", project / "tests/generic")
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_DIR / name, project / name)
    return project


def test_editing_the_review_seed_changes_the_marts(corpus_db: Path, tmp_path: Path) -> None:
    """HIT (17 tokens) is dropped from negative emotion by the shipped review; flip it to
    keep in a copy of the project, rebuild the seed and the label marts on a copy of the
    warehouse, and the HIT tokens carry the label."""
    project = _project_copy(tmp_path)
    seed = project / "seeds/label_review.csv"
    lines = list(csv.reader(seed.open()))
    edited = [
        [*r[:3], "keep", r[4]] if r[1:3] == ["negative_emotion", "HIT"] else r for r in lines
    ]
    assert edited != lines
    with seed.open("w", newline="") as f:
        csv.writer(f).writerows(edited)
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(corpus_db, db)
    before = _hit_rows(db)
    assert before == (17, 0, 0)
    # The runner's own invocation, pointed at the copy (the last --project-dir wins).
    run_dbt(
        "build",
        db,
        TEST_DBT_VARS,
        ["--project-dir", str(project), "--profiles-dir", str(project),
         "--resource-type", "seed", "--resource-type", "model", "--select",
         "label_review int_lexicon_hits_classified int_lexicon_hits_filtered "
         "fct_lexical_label_glosses fct_sign_tokens"],
    )  # fmt: skip
    assert _hit_rows(db) == (17, 17, 17)


def _hit_rows(db: Path) -> tuple[int, int, int]:
    """HIT's negative-emotion tokens, those labelled in the glosses mart and in the tokens."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        n_tokens, n_labelled = con.execute(
            "select n_tokens, n_labelled from fct_lexical_label_glosses "
            "where label = 'empath:negative_emotion' and gloss = 'HIT'"
        ).fetchone() or (0, 0)
        tokens = con.execute(
            "select count(*) from fct_sign_tokens "
            "where regexp_matches(gloss, '^(fs-)?HIT') "
            "and list_contains(lexical_labels, 'empath:negative_emotion')"
        ).fetchone()
    finally:
        con.close()
    return n_tokens, n_labelled, tokens[0] if tokens else 0
