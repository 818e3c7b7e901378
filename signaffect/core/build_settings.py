"""The settings of a build (dbt vars), checked once, here, before dbt runs, and kept from one
build to the next (the pipeline merges them; the mart `dim_build_settings` records them, and
`status` and the report show it).

Why: `cli.py build` used to pass no vars, so a build after `--vars '{frame_convention: study}'`
silently went back to the default. Now every build records the vars it ran with in
`meta.builds` (`signaffect.core.build_state`), and the next build starts from them: a rebuild
without options keeps the settings, an option changes one. The defaults have one home,
dbt_project.yml's `vars:`; the choices have one, `signaffect.core.choices`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import Enum
from functools import cache
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML, which dbt-core requires too

from signaffect.core.choices import (
    ClusterUnit,
    ComparisonSet,
    CoverageLevel,
    FerMode,
    FrameConvention,
    LexicalScope,
    values,
)
from signaffect.core.errors import SignAffectError
from signaffect.core.settings import DBT_PROJECT_FILE

#: Vars that take one of a choice's values (dbt checks the same rules on its side, in
#: macros/build_settings.sql; tests/test_cli_build_settings.py checks that they agree).
CHOICES: dict[str, type[Enum]] = {
    "frame_convention": FrameConvention,
    "lexical_scope": LexicalScope,
    "coverage_level": CoverageLevel,
    "comparison_set": ComparisonSet,
    "association_cluster_unit": ClusterUnit,
    "fer_mode": FerMode,
}
#: Vars that take a whole number, with the least each may be.
COUNTS: dict[str, int] = {
    "association_resamples": 1,
    "association_seed": 0,
    "association_min_clusters": 1,
    "lexical_min_frames": 1,
    "cooccurrence_min_frames": 1,
    "face_min_frames": 1,
}
HINT = "see `cli.py build --help` (dbt_project.yml's `vars:` lists every setting)"


@cache
def project_vars() -> dict[str, Any]:
    """dbt_project.yml's `vars:`: every setting a build has, with its default."""
    project = yaml.safe_load(DBT_PROJECT_FILE.read_text(encoding="utf-8"))
    return dict(project["vars"])


@dataclass(frozen=True)
class BuildSettings:
    """The build settings `cli.py build` and `run` offer as options; None keeps the value of
    the last build (else dbt_project.yml's default). Each field is the dbt var of its name."""

    frame_convention: FrameConvention | None = None
    lexical_scope: LexicalScope | None = None
    coverage_level: CoverageLevel | None = None
    comparison_set: ComparisonSet | None = None
    association_cluster_unit: ClusterUnit | None = None
    association_resamples: int | None = None
    association_seed: int | None = None

    def as_vars(self) -> dict[str, Any]:
        """The settings given, as dbt vars (checked)."""
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        return check_vars({k: v for k, v in given.items() if v is not None})


def check_vars(dbt_vars: Mapping[str, Any]) -> dict[str, Any]:
    """`dbt_vars` checked against dbt_project.yml's vars and their choices and bounds, enums
    as their values; a bad one is one line naming the var, its value and what it may be."""
    known = project_vars()
    checked: dict[str, Any] = {}
    for name, value in dbt_vars.items():
        if name not in known:
            raise SignAffectError(f"dbt var {name} is not a setting of dbt_project.yml", HINT)
        value = value.value if isinstance(value, Enum) else value
        if name in CHOICES and value not in values(CHOICES[name]):
            allowed = ", ".join(values(CHOICES[name]))
            raise SignAffectError(f"dbt var {name} must be one of {allowed}, not {value!r}", HINT)
        least = COUNTS.get(name)
        if least is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < least
        ):
            raise SignAffectError(
                f"dbt var {name} must be a whole number of at least {least}, not {value!r}", HINT
            )
        checked[name] = value
    return checked


def settings_for(
    previous: Mapping[str, Any] | None, given: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The vars of the next build: those of the last build, with `given` (checked) over them."""
    return {**(previous or {}), **check_vars(given or {})}
