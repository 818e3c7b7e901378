"""Face measures end to end on three real NCSLGR stories and three signers: OpenFace-layout
CSVs written by the test (brows raised, plus noise, on the frames the annotators coded
`eye brows=raised`: tests/face_synth.py) → `cli.py ingest --face-csv` → `cli.py build` →
fct_face_frames, fct_face_measures, the face:* features → `cli.py agree` → the stored
agreement rows and the report's "Measured vs coded" section.

The faces are synthetic (there is no video in the corpus): the agreement numbers here check
the pipeline, not the face of any signer.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from cli import app
from pipeline.corpus import build_warehouse
from tests.conftest import TEST_DBT_VARS, rows, scalar
from tests.face_synth import coded_media_frames, write_openface_csv

runner = CliRunner()
#: Three short stories, one signer each (Norma Bowers Tourangeau, Benjamin Bahan, Michael
#: Schlang), every utterance with its own master clip.
STORIES = ("ncslgr10k.xml", "ncslgr10a.xml", "ncslgr10q.xml")
CODE = "eye brows=raised"


def invoke(db: Path, *args: str) -> Result:
    return runner.invoke(app, ["--db", str(db), "--quiet", *args])


@pytest.fixture(scope="module")
def face_db(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("face_agree")
    db = root / "warehouse.duckdb"
    done = invoke(db, "ingest", *(str(corpus_dir / s) for s in STORIES), "--no-lexicons")
    assert done.exit_code == 0, done.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        clips = coded_media_frames(con, "eye brows", "raised")
    finally:
        con.close()
    csvs = []
    for i, (media, (n_frames, raised)) in enumerate(sorted(clips.items())):
        csv = root / (Path(media).stem + ".csv")
        write_openface_csv(csv, n_frames, raised, seed=i)
        csvs += ["--face-csv", str(csv)]
    loaded = invoke(db, "ingest", *csvs)
    assert loaded.exit_code == 0, loaded.output
    dbt_vars: dict[str, object] = {**TEST_DBT_VARS}
    build_warehouse(db, dbt_vars=dbt_vars)
    return db


def test_every_utterance_frame_is_measured_and_linked(face_db: Path) -> None:
    assert scalar(face_db, "select count(*) from fct_face_measures") == scalar(
        face_db, "select count(*) from fct_frames"
    )
    # The link: at 30 fps an utterance frame's video frame is fct_frames.media_frame.
    assert scalar(
        face_db,
        "select count(*) from fct_face_measures m join fct_frames f"
        " using (source_file, utterance_id, frame_index) where m.video_frame <> f.media_frame",
    ) == 0
    assert scalar(face_db, "select count(distinct signer_id) from fct_face_measures") == 3


def test_face_features_have_role_face_and_follow_the_raised_brows(face_db: Path) -> None:
    found = rows(
        face_db,
        "select feature, family, role from dim_features where feature_kind = 'face'"
        " order by feature",
    )
    assert ("face:brow_raise", "face", "face") in found
    # Synthetic brows are raised exactly on the coded frames, so most face:brow_raise
    # frames are coded frames.
    [(share,)] = rows(
        face_db,
        "select avg((c.feature is not null)::int) from fct_frame_features f"
        " left join fct_frame_features c on c.source_file = f.source_file"
        " and c.utterance_id = f.utterance_id and c.frame_index = f.frame_index"
        f" and c.feature = '{CODE}' where f.feature = 'face:brow_raise'",
    )
    assert share > 0.8


def test_agree_stores_pooled_and_per_signer_rows_and_reruns_replace_them(
    face_db: Path, tmp_path: Path
) -> None:
    args = ("agree", "brow_height", CODE, "--by", "signer", "--resamples", "200")
    first = invoke(face_db, *args, "--format", "csv")
    assert first.exit_code == 0, first.output
    assert invoke(face_db, *args).exit_code == 0
    stored = rows(
        face_db,
        "select signer, n_frames, auc, auc_ci_low, kappa, event_recall, threshold"
        " from measure_code_agreement order by signer",
    )
    assert [r[0] for r in stored][-1] == "pooled" and len(stored) == 4
    pooled = stored[-1]
    assert pooled[1] == scalar(face_db, "select count(*) from fct_face_measures")
    assert pooled[2] > 0.9 and pooled[3] > 0.8  # raised on exactly the coded frames
    assert pooled[4] > 0.6 and pooled[5] > 0.5
    assert all(r[6] is not None for r in stored[:-1])  # each signer's held-out threshold
    report = invoke(face_db, "report", "--out", str(tmp_path / "report"))
    assert report.exit_code == 0, report.output
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "## Measured vs coded" in markdown
    assert (tmp_path / "report" / "measured-vs-coded.png").stat().st_size > 0


def test_agree_bad_input_is_one_line(face_db: Path) -> None:
    for args, message in (
        (("agree", "brow_height", "eye brows=purple"), "'eye brows=purple' is not a coded"),
        (("agree", "brow height", CODE), "'brow height' is not a face measure"),
    ):
        done = invoke(face_db, *args)
        assert done.exit_code == 1
        assert message in done.stderr and "Traceback" not in done.output
