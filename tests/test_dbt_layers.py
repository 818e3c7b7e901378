"""dbt flows one way: sources and seeds -> staging -> intermediate -> marts. A model reads
only its own layer or the one below (a mart reads intermediates and marts, never staging;
staging reads sources), so no intermediate depends on a mart and a rename in a lower layer
reaches the marts through one place. The check reads the manifest of `dbt parse`; a fixture
project with a deliberately upward ref shows that it fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from signaffect.core.settings import PROJECT_DIR

#: Each model layer (its folder under models/) and the layers it may read. Seeds are
#: reference data any layer may read; raw sources are read by staging alone.
LAYERS = ("staging", "intermediate", "marts")
MAY_READ = {
    "staging": {"source", "seed"},
    "intermediate": {"seed", "staging", "intermediate"},
    "marts": {"seed", "intermediate", "marts"},
}


def layer_of(node: Any) -> str:
    """A node's layer: `source`, `seed`, or the first folder of a model's path."""
    if node.resource_type in ("source", "seed"):
        return str(node.resource_type)
    folder = Path(node.original_file_path).parts[1]
    assert folder in LAYERS, f"{node.original_file_path}: a model outside {LAYERS}"
    return folder


def wrong_way_refs(manifest: Any) -> list[str]:
    """Every model's ref or source that its layer may not read, as `model (layer) ->
    parent (layer)`."""
    nodes = {**manifest.nodes, **manifest.sources}
    found = []
    for node in manifest.nodes.values():
        if node.resource_type != "model":
            continue
        layer = layer_of(node)
        for parent_id in node.depends_on.nodes:
            parent = nodes[parent_id]
            if layer_of(parent) not in MAY_READ[layer]:
                found.append(f"{node.name} ({layer}) -> {parent.name} ({layer_of(parent)})")
    return sorted(found)


def parsed(project_dir: Path, target_dir: Path, dbt_vars: str = "{}") -> Any:
    """The manifest of `dbt parse` of a project (no database is opened)."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke([
        "--log-level", "none", "--no-write-json", "--no-partial-parse", "parse",
        "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
        "--target-path", str(target_dir), "--vars", dbt_vars,
    ])
    assert result.success, result.exception
    return result.result


def test_every_ref_of_the_project_flows_one_way(tmp_path: Path) -> None:
    db = tmp_path / "parse.duckdb"
    manifest = parsed(PROJECT_DIR, tmp_path / "target", f'{{signaffect_db: "{db}"}}')
    assert len([n for n in manifest.nodes.values() if n.resource_type == "model"]) > 40
    assert wrong_way_refs(manifest) == []


#: A project whose intermediate reads a mart and whose mart reads staging.
FIXTURE = {
    "dbt_project.yml": "name: upward\nversion: '1.0.0'\nconfig-version: 2\nprofile: upward\n",
    "profiles.yml": "upward:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: DB}\n",
    "models/staging/stg_things.sql": "select 1 as thing",
    "models/intermediate/int_things_counted.sql": "select * from {{ ref('stg_things') }}",
    "models/marts/fct_things.sql": "select * from {{ ref('int_things_counted') }}",
    "models/intermediate/int_things_from_the_mart.sql": "select * from {{ ref('fct_things') }}",
    "models/marts/dim_things.sql": "select * from {{ ref('stg_things') }}",
}


def test_the_check_fails_on_an_upward_ref(tmp_path: Path) -> None:
    project = tmp_path / "upward"
    for name, text in FIXTURE.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("DB", str(tmp_path / "upward.duckdb")), encoding="utf-8")
    assert wrong_way_refs(parsed(project, tmp_path / "target")) == [
        "dim_things (marts) -> stg_things (staging)",
        "int_things_from_the_mart (intermediate) -> fct_things (marts)",
    ]
