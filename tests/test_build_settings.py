"""dbt's side of the build settings: the warehouse records every dbt var it was built with
in the one-row mart `dim_build_settings`, and a var outside its choices stops dbt with an
error naming the var and what it may be (macro `setting`, macros/build_settings.sql)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from signaffect.core.dbt_runner import run_dbt
from signaffect.core.errors import SignAffectError
from signaffect.core.settings import PROJECT_DIR
from tests.conftest import TEST_DBT_VARS, rows

DEFAULTS = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def test_the_warehouse_records_every_var_it_was_built_with(sample_db: Path) -> None:
    values = rows(sample_db, "select * from dim_build_settings")
    columns = [r[0] for r in rows(sample_db, "describe dim_build_settings")]
    assert len(values) == 1
    assert columns == list(DEFAULTS)
    recorded = dict(zip(columns, values[0], strict=True))
    assert recorded == {**DEFAULTS, **TEST_DBT_VARS}
    assert recorded["association_resamples"] == 200 != DEFAULTS["association_resamples"]


def test_the_choices_are_a_table_and_the_build_kept_to_them(sample_db: Path) -> None:
    choices = rows(sample_db, "select setting, list(choice order by choice) from "
                   "dim_build_setting_choices group by setting")
    listed = dict(choices)
    assert listed["frame_convention"] == ["floor", "nearest", "study"]
    assert listed["lexical_scope"] == ["sign", "utterance"]
    assert "face" in listed["ml_input_roles"] and "au" in listed["ml_input_kinds"]
    one_of = [name for name, _ in choices if isinstance(DEFAULTS[name], str)]
    recorded = rows(sample_db, f"select {', '.join(one_of)} from dim_build_settings")[0]
    assert all(value in listed[name] for name, value in zip(one_of, recorded, strict=True))


@pytest.mark.parametrize(
    ("dbt_vars", "said"),
    [
        ({"lexical_scope": "phrase"}, 'scope is "phrase": it must be one of sign, utterance'),
        ({"frame_convention": "round"}, "it must be one of floor, nearest, study"),
        ({"association_min_support": {"frame": 5}}, "dbt var association_min_support is"),
        ({"ml_input_roles": "face,mouth"}, "it must be a non-empty list of face, body, grammar"),
        ({"keep_question_words": "no"}, 'keep_question_words is "no": it must be true or false'),
    ],
)
def test_a_var_outside_its_choices_stops_dbt_naming_it(
    tmp_path: Path, dbt_vars: dict[str, object], said: str
) -> None:
    with pytest.raises(SignAffectError) as raised:
        run_dbt("parse", tmp_path / "w.duckdb", dbt_vars,
                ["--target-path", str(tmp_path / "target")])
    assert said in str(raised.value)
