"""SignAffect command line: ingest a corpus (SignStream, ELAN, DAI 2), build, query it.

This file only assembles the app: the global options (--db, --debug, --quiet), the guard
that turns whatever a command raises into one error line and an exit code, and the commands,
which live in the modules of `commands/` (see `commands/__init__.py` for the pattern). Exit
codes: 0 ok, 1 the pipeline failed, 2 usage, 130 interrupted (see `signaffect.core.failures`).
"""

from __future__ import annotations

from signaffect.core.last_resort import install_last_resort

# Before the other imports: running out of memory while they load is one line too.
install_last_resort()

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from commands import agreement, associations, corpus, query, report, train, video
from commands.common import State, report_failure
from signaffect.core.failures import describe
from signaffect.core.settings import db_path

#: The command modules, in the order `cli.py --help` lists their commands.
COMMAND_MODULES = (corpus, query, associations, agreement, train, report, video)


class GuardedGroup(TyperGroup):
    """Runs each command so that whatever it raises (a lock, a full disk, Ctrl-C, a bug)
    ends as one error line and an exit code, never a traceback (unless --debug)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, SystemExit):  # usage: exit 2
            raise
        except BaseException as exc:  # KeyboardInterrupt and MemoryError included
            if State.debug:
                raise
            report_failure(describe(exc, ctx.invoked_subcommand or "", str(State.db)))


app = typer.Typer(
    cls=GuardedGroup,
    help="SignAffect: how the face carries emotion and grammar in ASL, as SQL over every frame.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
for _module in COMMAND_MODULES:
    app.registered_commands += _module.app.registered_commands


def check_db(value: Path | None) -> Path | None:
    """Refuse an empty `--db` (typer reads "" as the current folder) or any folder."""
    if value is not None and (str(value) in ("", ".") or value.is_dir()):
        shown = "an empty path" if str(value) in ("", ".") else f"{value}, a folder,"
        raise typer.BadParameter(f"{shown} is not a warehouse file; pass a file such as "
                                 "warehouse/signaffect.duckdb")
    return value


@app.callback()
def main(
    db: Annotated[
        Path | None,
        typer.Option(
            help="Warehouse file. Default: env SIGNAFFECT_DB, else warehouse/signaffect.duckdb.",
            show_default=False,
            callback=check_db,
        ),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option(help="Show full tracebacks on errors; dbt's log records every statement."),
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Global options."""
    State.db = db_path(db)
    State.debug = debug
    State.quiet = quiet
    if debug:
        os.environ["SIGNAFFECT_DBT_LOG_LEVEL"] = "debug"


if __name__ == "__main__":
    app()
