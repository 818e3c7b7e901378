"""The CLI's side of the build settings: `cli.py build` takes them as options, checks them in
Python before dbt runs, records them in the warehouse, and a rebuild without options keeps
them (it used to revert silently); `status` shows them. dbt's side: test_build_settings.py."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from pipeline.corpus import build_warehouse
from signaffect.core.build_settings import (
    CHOICES,
    COUNTS,
    BuildSettings,
    check_vars,
    project_vars,
)
from signaffect.core.build_state import read_record
from signaffect.core.choices import FrameConvention, values
from signaffect.core.errors import SignAffectError
from signaffect.core.settings import PROJECT_DIR
from signaffect.core.warehouse import connect
from tests.conftest import scalar

runner = CliRunner()
FRAMES = "select count(*) from fct_frames"
#: The study's convention by hand: every utterance cut into whole 33 ms frames.
STUDY_FRAMES = "select sum((end_ms - start_ms) // 33) from raw.signstream_utterances"


def _cli(db: Path, *args: str) -> str:
    result = runner.invoke(app, ["--db", str(db), "--quiet", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _recorded(db: Path) -> dict[str, object]:
    con = connect(db, read_only=True)
    try:
        record = read_record(con)
    finally:
        con.close()
    assert record is not None
    return record.settings


def test_a_build_option_is_kept_by_the_next_build_and_shown(
    sample_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copyfile(sample_db, db)
    floor_frames = scalar(db, FRAMES)
    assert "frame_convention study" in _cli(db, "build", "--frame-convention", "study")
    study_frames = scalar(db, FRAMES)
    assert study_frames == scalar(db, STUDY_FRAMES) != floor_frames
    again = _cli(db, "build")  # no option: the convention stays
    assert "frame_convention study" in again and scalar(db, FRAMES) == study_frames
    assert "frame_convention study" in _cli(db, "status")
    recorded = _recorded(db)
    assert recorded["frame_convention"] == "study"
    assert recorded["association_resamples"] == 200  # the fixture's, kept too
    _cli(db, "build", "--frame-convention", "floor")
    assert scalar(db, FRAMES) == floor_frames


def test_a_bad_setting_is_refused_before_dbt_and_not_kept(sample_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copyfile(sample_db, db)
    before = _recorded(db)
    with pytest.raises(SignAffectError, match="association_resamples must be a whole number"):
        build_warehouse(db, dbt_vars={"association_resamples": 0})
    assert _recorded(db) == before  # the next build starts from the last good settings
    result = runner.invoke(app, ["--db", str(db), "build", "--association-resamples", "-3"])
    assert result.exit_code == 1
    assert "dbt var association_resamples must be a whole number of at least 1, not -3" in (
        result.stderr
    )
    assert "Traceback" not in result.output


def test_check_vars_names_the_var_its_value_and_what_it_may_be() -> None:
    assert check_vars({"frame_convention": FrameConvention.study}) == {"frame_convention": "study"}
    with pytest.raises(SignAffectError, match="frame_convention must be one of floor, nearest, "
                       "study, not 'frame'"):
        check_vars({"frame_convention": "frame"})
    with pytest.raises(SignAffectError, match="no_such_var is not a setting"):
        check_vars({"no_such_var": 1})
    with pytest.raises(SignAffectError, match="association_seed"):
        check_vars({"association_seed": True})
    assert BuildSettings().as_vars() == {}


def test_python_checks_the_rules_dbt_checks() -> None:
    """The vars Python checks before dbt runs have the rules dbt checks again
    (macros/build_settings.sql): the same choices, the same least values."""
    macro = (PROJECT_DIR / "macros" / "build_settings.sql").read_text(encoding="utf-8")
    one_of = {
        name: tuple(re.findall(r"'(\w+)'", listed))
        for name, listed in re.findall(r"'(\w+)': \{'one_of': \[([^\]]*)\]\}", macro)
    }
    at_least = {name: int(n) for name, n in re.findall(r"'(\w+)': \{'at_least': (\d+)\}", macro)}
    for name, choice in CHOICES.items():
        assert one_of[name] == values(choice), name
    for name, least in COUNTS.items():
        assert at_least[name] == least, name


def test_every_build_option_is_a_var_of_the_project() -> None:
    """The options map one to one onto dbt_project.yml's vars, whose defaults they show."""
    known = project_vars()
    for name in BuildSettings.__dataclass_fields__:
        assert name in known, name
    help_text = runner.invoke(app, ["build", "--help"]).stdout
    assert "--frame-convention" in help_text and "--lexical-scope" in help_text
