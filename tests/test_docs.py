"""Docs stay honest: every command is in README.md and has help; the two commands exist."""

from __future__ import annotations

import re

from typer.main import get_command
from typer.testing import CliRunner

from cli import app
from signaffect.core.settings import PROJECT_DIR

README = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_every_command_is_documented_and_has_help() -> None:
    assert {"ingest", "build", "query", "status", "run"} <= set(COMMANDS)
    for name in COMMANDS:
        assert f"cli.py {name}" in README, name
        result = CliRunner().invoke(app, [name, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output, name


def test_readme_leads_with_run_and_test_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    assert blocks[0].endswith(".venv/bin/python cli.py run")
    assert blocks[1].endswith(".venv/bin/python -m pytest")
    ci = (PROJECT_DIR / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1] in ci
