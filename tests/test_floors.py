"""The floors of the code and the arrows allowed between them, written once: a module may
import its own floor and the floors listed for it, which all stand below it. docs/architecture.md
explains each floor; this test is where the rule lives."""

from __future__ import annotations

import ast
from pathlib import Path

from signaffect.core.settings import PROJECT_DIR

#: floor → the floors it may import (besides itself). Lowest first.
ALLOWED: dict[str, frozenset[str]] = {
    "signaffect.core": frozenset(),
    "signaffect.stats": frozenset({"signaffect.core"}),
    "signaffect.fer_engine": frozenset({"signaffect.core"}),
    "signaffect.face_engine": frozenset({"signaffect.core", "signaffect.fer_engine"}),
    "ingest": frozenset({"signaffect.core", "signaffect.fer_engine", "signaffect.face_engine"}),
    "ml": frozenset({"signaffect.core", "signaffect.stats"}),
    "signaffect.read": frozenset({"signaffect.core", "signaffect.stats", "ml"}),
    "signaffect.pipeline": frozenset(
        {"signaffect.core", "signaffect.stats", "signaffect.fer_engine",
         "signaffect.face_engine", "ingest", "ml", "signaffect.read"}
    ),
    "models": frozenset({"signaffect.core", "signaffect.stats"}),
    "cli": frozenset(
        {"signaffect.core", "signaffect.stats", "signaffect.fer_engine",
         "signaffect.face_engine", "ingest", "ml", "signaffect.read", "signaffect.pipeline"}
    ),
}
#: Third-party packages a floor must not import: the FER engine runs in workers without a
#: warehouse, so it stays free of DuckDB.
FORBIDDEN_PACKAGES: dict[str, frozenset[str]] = {
    "signaffect.fer_engine": frozenset({"duckdb"}),
    "signaffect.face_engine": frozenset({"duckdb"}),
}
#: Modules only some floors may import: only the pipeline runs dbt (ml and the read side
#: read what it built; they never rebuild it).
ONLY_FOR: dict[str, frozenset[str]] = {
    "signaffect.core.dbt_runner": frozenset({"signaffect.pipeline"})
}
_OURS = ("signaffect", "ingest", "ml", "cli", "models")


def _floor(module: str) -> str | None:
    """The longest floor name that `module` is, or lies inside."""
    matches = [f for f in ALLOWED if module == f or module.startswith(f + ".")]
    return max(matches, key=len) if matches else None


def _modules() -> dict[str, Path]:
    """Every Python module of the product: the packages, dbt's Python models and cli.py."""
    found = {"cli": PROJECT_DIR / "cli.py"}
    for top in ("signaffect", "ingest", "ml", "models"):
        for path in sorted((PROJECT_DIR / top).rglob("*.py")):
            parts = path.relative_to(PROJECT_DIR).with_suffix("").parts
            name = ".".join(p for p in parts if p != "__init__")
            if name != "signaffect":  # the namespace's docstring, above no floor
                found[name] = path
    return found


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every absolute import in the file, at any depth (also inside
    functions, where the CLI imports lazily)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _upward_imports(modules: dict[str, Path]) -> list[str]:
    """One line per import that points up (or sideways) a floor, or per module in no floor."""
    wrong: list[str] = []
    for module, path in modules.items():
        floor = _floor(module)
        if floor is None:
            wrong.append(f"{module}: in no floor (add it to a floor's package)")
            continue
        allowed = ALLOWED[floor] | {floor}
        for line, target in _imports(path):
            top = target.split(".")[0]
            if top in FORBIDDEN_PACKAGES.get(floor, frozenset()):
                wrong.append(f"{path.name}:{line} {module} imports {target} ({floor} must not)")
            if top not in _OURS or target == "signaffect":
                continue
            if target in ONLY_FOR and floor not in ONLY_FOR[target] | {"signaffect.core"}:
                wrong.append(f"{path.name}:{line} {module} imports {target} (only for "
                             f"{', '.join(sorted(ONLY_FOR[target]))})")
            target_floor = _floor(target)
            if target_floor is not None and target_floor not in allowed:
                wrong.append(f"{path.name}:{line} {module} ({floor}) imports {target} "
                             f"({target_floor})")
    return sorted(set(wrong))


def test_every_import_points_down_a_floor() -> None:
    assert _upward_imports(_modules()) == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: ml importing ingest (inside a function), the FER engine importing
    DuckDB and a module outside every floor are each caught; a downward import is not."""
    leak = tmp_path / "leak.py"
    leak.write_text(
        "import duckdb\n\ndef f():\n    from ingest.raw_store import RAW_SCHEMA\n"
        "    from signaffect.core.dbt_runner import run_dbt\n"
    )
    fine = tmp_path / "fine.py"
    fine.write_text("from signaffect.core.errors import SignAffectError\n")
    found = _upward_imports(
        {"ml.leak": leak, "signaffect.fer_engine.leak": leak, "stray": fine, "ingest.ok": fine}
    )
    assert found == [
        "leak.py:1 signaffect.fer_engine.leak imports duckdb (signaffect.fer_engine must not)",
        "leak.py:4 ml.leak (ml) imports ingest.raw_store (ingest)",
        "leak.py:4 signaffect.fer_engine.leak (signaffect.fer_engine) imports "
        "ingest.raw_store (ingest)",
        "leak.py:5 ml.leak imports signaffect.core.dbt_runner (only for signaffect.pipeline)",
        "leak.py:5 signaffect.fer_engine.leak imports signaffect.core.dbt_runner "
        "(only for signaffect.pipeline)",
        "stray: in no floor (add it to a floor's package)",
    ]
