"""What the command modules share: the global options, option types used by more than one
command, printing helpers, one-line failures, and `with_settings` (a settings dataclass as
options, its defaults written once, in the dataclass)."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.text import Text

from signaffect.core.choices import Family, Role
from signaffect.core.errors import SignAffectError
from signaffect.core.failures import Failure, describe
from signaffect.core.last_resort import write_plain
from signaffect.core.output import OutputFormat, err, note, out
from signaffect.core.settings import db_path


class State:
    """Global options shared by every command."""

    db: Path = db_path()
    debug: bool = False
    quiet: bool = False


def report_failure(failure: Failure) -> None:
    """Print a failure's lines and hint on stderr, verbatim, and exit with its code (plain
    bytes if rich cannot draw them, e.g. out of memory)."""
    try:
        for line in failure.lines:
            err.print(f"[red]error:[/red] {escape(line)}")
        if failure.hint:
            note(f"hint: {failure.hint}")
    except BaseException:  # the failure must still be reported, and once
        write_plain(failure.lines, failure.hint)
    raise typer.Exit(failure.code)


def fail(exc: SignAffectError) -> None:
    """Report `exc` as one line and exit 1; re-raise under --debug."""
    if State.debug:
        raise exc
    report_failure(describe(exc, "", str(State.db)))


# Options of more than one command.
FormatOption = Annotated[OutputFormat, typer.Option(help="Output format.")]
LabelArgument = Annotated[
    str, typer.Argument(help="A lexical label, e.g. empath:confusion or nrc:anger.")
]
FamilyOption = Annotated[
    Family, typer.Option(help="SignStream codes or FACS action units (never mixed).")
]
RoleOption = Annotated[
    Role,
    typer.Option(help="Features of this role: face (facial and head codes, their action "
                 "units, FER: the only evidence of what the face carries), body, grammar "
                 "(markers), lexical (part of speech, glosses, mouthings: the word), or all."),
]


def print_lines(lines: Iterable[str]) -> None:
    """Prose lines on stdout, wrapped by the terminal, never highlighted."""
    for line in lines:
        out.print(line, highlight=False, soft_wrap=True)


def print_caption(caption: str, fmt: OutputFormat) -> None:
    """A table's caption: above the table on stdout, on stderr when stdout carries CSV or JSON."""
    (out if fmt is OutputFormat.table else err).print(
        Text(caption), highlight=False, soft_wrap=True
    )


F = TypeVar("F", bound=Callable[..., Any])


def with_settings(settings: type, options: Mapping[str, Any], into: str) -> Callable[[F], F]:
    """Give a command one option per entry of `options` (field name → its `Annotated` typer
    type), defaulting to the field's default in the dataclass `settings`, and call the
    command with those values gathered as one `settings` instance in its parameter `into`.

    Why: the options of a settings dataclass are then declared once for every command that
    takes them (`ingest` and `run` share the corpus options), and their defaults have one
    home, the dataclass."""
    fields = {f.name: f for f in dataclasses.fields(settings)}

    def default(name: str) -> Any:
        field = fields[name]
        if field.default_factory is not dataclasses.MISSING:
            return field.default_factory()
        return field.default

    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind,
                          default=default(name))
        for name, kind in options.items()
    ]

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        kept = [p for p in signature.parameters.values() if p.name != into]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            chosen = {name: kwargs.pop(name) for name in options}
            return command(*args, **kwargs, **{into: settings(**chosen)})

        wrapper.__signature__ = signature.replace(parameters=kept + added)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in kept + added}
        return wrapper  # type: ignore[return-value]

    return decorate
