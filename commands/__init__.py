"""The commands of `cli.py`, one module per group of commands; cli.py only assembles them.

The pattern, for every module here (and for a new command):

- A module declares `app = typer.Typer()` and decorates each of its commands with
  `@app.command(epilog="Example: cli.py ...")` (README and `test_docs` want an example).
  cli.py lists the module in `COMMAND_MODULES` and adds its commands to the one app; that
  list's order is the order of `cli.py --help`. To move a command in: cut it from cli.py
  with its options, paste it into a module here, add the module to `COMMAND_MODULES`.
- A command parses its options, calls one step of `pipeline` (anything that writes
  the warehouse or runs dbt) or one function of `read` (anything that reads it),
  and prints. No SQL, no statistics, no orchestration here.
- Heavy modules are imported inside the command that uses them, so `cli.py --help` and the
  light commands start fast; at the top only light ones (defaults and help text), since
  `tests/test_floors.py` checks that assembling the app loads no numpy, pyarrow or DuckDB.
- What several commands share lives in `commands.common`: the global `State` (--db, --debug,
  --quiet), option types used by more than one command, printing helpers, and
  `with_settings`, which gives a command one option per field of a settings dataclass (its
  defaults are the dataclass's, written once) and passes the command one instance of it.
"""
