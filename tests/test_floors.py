"""The floors of the code and the arrows allowed between them, written once: a module may
import its own floor and the floors listed for it, which all stand below it. docs/architecture.md
explains each floor; this test is where the rule lives. Besides imports it checks what an
import list does not show: the third-party packages a floor must not load (also through the
modules it imports), and the project files a module reads by path."""

from __future__ import annotations

import ast
import subprocess
import sys
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
    "read": frozenset({"signaffect.core", "signaffect.stats", "ml"}),
    "pipeline": frozenset(
        {"signaffect.core", "signaffect.stats", "signaffect.fer_engine",
         "signaffect.face_engine", "ingest", "ml", "read"}
    ),
    "models": frozenset({"signaffect.core", "signaffect.stats"}),
    "commands": frozenset(
        {"signaffect.core", "signaffect.stats", "signaffect.fer_engine",
         "signaffect.face_engine", "ingest", "ml", "read", "pipeline"}
    ),
    "cli": frozenset(
        {"signaffect.core", "signaffect.stats", "signaffect.fer_engine",
         "signaffect.face_engine", "ingest", "ml", "read", "pipeline",
         "commands"}
    ),
    # The benchmarks stand where the CLI does, beside it: they may use what it may (never
    # tests.*, never the dbt runner directly).
    "bench": frozenset(
        {"signaffect.core", "signaffect.stats", "signaffect.fer_engine",
         "signaffect.face_engine", "ingest", "ml", "read", "pipeline"}
    ),
}
#: Third-party packages a floor must not import: the FER engine runs in workers without a
#: warehouse, so it stays free of DuckDB.
FORBIDDEN_PACKAGES: dict[str, frozenset[str]] = {
    "signaffect.fer_engine": frozenset({"duckdb"}),
    "signaffect.face_engine": frozenset({"duckdb"}),
}
#: Modules only some floors may import: only the pipeline runs dbt (ml and the read side
#: read what it built; they never rebuild it), and only training and the pipeline write a
#: run into the warehouse (`cli.py train --load-artifacts` goes through the pipeline).
ONLY_FOR: dict[str, frozenset[str]] = {
    "signaffect.core.dbt_runner": frozenset({"pipeline"}),
    "ml.recording": frozenset({"ml", "pipeline"}),
}
#: Third-party packages a floor must not load even through the modules it imports (at any
#: depth, imports inside functions included, `if TYPE_CHECKING:` blocks not): ingest and
#: every build run without OpenCV, which only the FER engine's video decoding needs.
FORBIDDEN_ANYWHERE_BELOW: dict[str, frozenset[str]] = {"ingest": frozenset({"cv2"})}
_OURS = ("signaffect", "ingest", "ml", "read", "pipeline", "cli", "models", "commands", "bench",
         "tests")


def _floor(module: str) -> str | None:
    """The longest floor name that `module` is, or lies inside."""
    matches = [f for f in ALLOWED if module == f or module.startswith(f + ".")]
    return max(matches, key=len) if matches else None


def _modules() -> dict[str, Path]:
    """Every Python module of the product: the packages, dbt's Python models, cli.py and its
    commands, and the benchmarks."""
    found = {"cli": PROJECT_DIR / "cli.py"}
    for top in ("signaffect", "ingest", "ml", "read", "pipeline", "models", "commands", "bench"):
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


def _submodules(path: Path, line: int) -> list[str]:
    """`package.name` for each name of a `from package import name` on `line` (the name may
    be a module: `from signaffect.core import dbt_runner`)."""
    return [
        f"{node.module}.{alias.name}"
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.ImportFrom) and node.lineno == line and node.module
        for alias in node.names
    ]


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
            for only in (name for name in ONLY_FOR if name in (target, *_submodules(path, line))):
                if floor not in ONLY_FOR[only] | {"signaffect.core"}:
                    wrong.append(f"{path.name}:{line} {module} imports {only} (only for "
                                 f"{', '.join(sorted(ONLY_FOR[only]))})")
            target_floor = _floor(target)
            if target_floor is None:
                wrong.append(f"{path.name}:{line} {module} imports {target} (in no floor)")
            elif target_floor not in allowed:
                wrong.append(f"{path.name}:{line} {module} ({floor}) imports {target} "
                             f"({target_floor})")
    return sorted(set(wrong))


def _runtime_imports(path: Path) -> list[str]:
    """The modules `path` may load when it runs: every import outside `if TYPE_CHECKING:`
    blocks (those inside functions too, since calling the function loads them)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body
        for inner in ast.walk(stmt)
    }
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _loads_below(modules: dict[str, Path]) -> list[str]:
    """One line per module of a floor in FORBIDDEN_ANYWHERE_BELOW that loads a forbidden
    package through any chain of our modules, naming the chain."""
    wrong: list[str] = []
    for module in sorted(modules):
        floor = _floor(module)
        banned = FORBIDDEN_ANYWHERE_BELOW.get(floor or "", frozenset())
        if not banned:
            continue
        chains: dict[str, list[str]] = {module: [module]}
        todo = [module]
        while todo:
            current = todo.pop()
            for target in _runtime_imports(modules[current]):
                if target.split(".")[0] in banned:
                    wrong.append(f"{module} loads {target} through {' -> '.join(chains[current])}")
                elif target in modules and target not in chains:
                    chains[target] = [*chains[current], target]
                    todo.append(target)
    return sorted(set(wrong))


#: The project files Python reads by path (not through an import), each named once, in
#: `signaffect.core.settings`; this test checks they exist and that no other module builds
#: a path into the project (so a moved or renamed macro fails here, not at run time).
PATH_HOME = "signaffect.core.settings"


def _project_paths(modules: dict[str, Path]) -> list[str]:
    """One line per path built from PROJECT_DIR outside PATH_HOME, and per path declared in
    PATH_HOME that does not exist."""
    wrong: list[str] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (module != PATH_HOME and isinstance(node, ast.BinOp)
                    and isinstance(node.op, ast.Div) and isinstance(node.left, ast.Name)
                    and node.left.id == "PROJECT_DIR"):
                wrong.append(f"{path.name}:{node.lineno} {module} builds a project path "
                             f"({ast.unparse(node)}): declare it in {PATH_HOME}")
    settings = __import__(PATH_HOME, fromlist=["PROJECT_DIR"])
    for name, value in vars(settings).items():
        if name.endswith("_FILE") and isinstance(value, Path) and not value.exists():
            wrong.append(f"{PATH_HOME}.{name}: {value} does not exist")
    return sorted(wrong)


def test_no_floor_loads_what_it_must_not_even_indirectly() -> None:
    assert _loads_below(_modules()) == []


def test_project_files_read_by_path_are_declared_once_and_exist() -> None:
    assert _project_paths(_modules()) == []


def test_the_checks_see_an_indirect_load_and_an_undeclared_path(tmp_path: Path) -> None:
    """An ingest module that reaches OpenCV through another module (and only through code
    that runs, not a TYPE_CHECKING import) is caught, as is a macro read by path."""
    reader = tmp_path / "reader.py"
    reader.write_text("from signaffect.fer_engine.decoder import decode\n")
    decoder = tmp_path / "decoder.py"
    decoder.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import numpy\n"
                       "def decode():\n    import cv2\n")
    typed = tmp_path / "typed.py"
    typed.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import cv2\n")
    found = _loads_below({"ingest.reader": reader, "signaffect.fer_engine.decoder": decoder,
                          "ingest.typed": typed})
    assert found == ["ingest.reader loads cv2 through ingest.reader -> "
                     "signaffect.fer_engine.decoder"]
    by_path = tmp_path / "by_path.py"
    by_path.write_text("RULE = PROJECT_DIR / 'macros' / 'media_file_name.sql'\n")
    assert _project_paths({"ingest.by_path": by_path}) == [
        "by_path.py:1 ingest.by_path builds a project path "
        "(PROJECT_DIR / 'macros'): declare it in signaffect.core.settings"
    ]


def test_every_import_points_down_a_floor() -> None:
    assert _upward_imports(_modules()) == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: ml importing ingest (inside a function), the FER engine importing
    DuckDB, a module outside every floor, and a benchmark reaching the dbt runner (also as
    `from package import module`) or tests.* are each caught; a downward import is not."""
    leak = tmp_path / "leak.py"
    leak.write_text(
        "import duckdb\n\ndef f():\n    from ingest.raw_store import RAW_SCHEMA\n"
        "    from signaffect.core.dbt_runner import run_dbt\n"
    )
    fine = tmp_path / "fine.py"
    fine.write_text("from signaffect.core.errors import SignAffectError\n")
    bench = tmp_path / "bench_x.py"
    bench.write_text("from signaffect.core import dbt_runner\nfrom tests.fer_synth import w\n"
                     "from pipeline.builds import unrecorded_dbt\n")
    found = _upward_imports(
        {"ml.leak": leak, "signaffect.fer_engine.leak": leak, "stray": fine, "ingest.ok": fine,
         "bench.bench_x": bench}
    )
    assert found == [
        "bench_x.py:1 bench.bench_x imports signaffect.core.dbt_runner (only for "
        "pipeline)",
        "bench_x.py:2 bench.bench_x imports tests.fer_synth (in no floor)",
        "leak.py:1 signaffect.fer_engine.leak imports duckdb (signaffect.fer_engine must not)",
        "leak.py:4 ml.leak (ml) imports ingest.raw_store (ingest)",
        "leak.py:4 signaffect.fer_engine.leak (signaffect.fer_engine) imports "
        "ingest.raw_store (ingest)",
        "leak.py:5 ml.leak imports signaffect.core.dbt_runner (only for pipeline)",
        "leak.py:5 signaffect.fer_engine.leak imports signaffect.core.dbt_runner "
        "(only for pipeline)",
        "stray: in no floor (add it to a floor's package)",
    ]


def _packages_across_ingest_and_ml(allowed: dict[str, frozenset[str]]) -> list[str]:
    """The top-level packages holding both a floor that ingest or ml stand on and a floor
    that stands above them (dbt's models aside): a drawing of such a package has arrows
    running back up into it."""
    below = allowed["ingest"] | allowed["ml"]
    sides: dict[str, set[bool]] = {}
    for floor in allowed:
        if floor not in ("ingest", "ml", "models"):
            sides.setdefault(floor.split(".")[0], set()).add(floor in below)
    return sorted(top for top, found in sides.items() if len(found) > 1)


def test_the_folders_read_in_floor_order() -> None:
    """signaffect/ holds only what ingest and ml stand on; read/, pipeline/, commands/ and
    cli.py stand above them. main's old layout (signaffect.read, signaffect.pipeline) fails."""
    assert _packages_across_ingest_and_ml(ALLOWED) == []
    old = {("signaffect." + f if f in ("read", "pipeline") else f): {
        ("signaffect." + a if a in ("read", "pipeline") else a) for a in floors}
        for f, floors in ALLOWED.items()}
    assert _packages_across_ingest_and_ml(
        {f: frozenset(floors) for f, floors in old.items()}) == ["signaffect"]


#: Packages the CLI must not load to start (`cli.py --help`, option parsing): each costs
#: 0.1-1.5 s of every command; the command that uses one imports it inside its function.
NOT_AT_START_UP = ("numpy", "scipy", "pyarrow", "duckdb", "pandas", "dbt", "sklearn", "cv2",
                   "matplotlib")


def test_the_cli_starts_without_the_heavy_packages() -> None:
    """Assembling the app (every command, its options and defaults) loads none of them."""
    code = "import sys, cli; print(' '.join(p for p in sys.argv[1:] if p in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code, *NOT_AT_START_UP], cwd=PROJECT_DIR,
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == []
