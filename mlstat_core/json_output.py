"""JSON output of failures: ``mlstat COMMAND --json`` prints one JSON object on stdout also
when it fails, a command line that click rejects included. Light (click only): the CLI and
the report commands import it at start-up."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import click


def json_failure(command: str, error: str, warnings: list[str] | None = None
                 ) -> dict[str, Any]:
    """The one JSON object that ``mlstat COMMAND --json`` prints on stdout when it fails, in
    the shape of that command's success (``status`` "failed", or ``valid`` false for
    ``validate``), so that a script parsing stdout always gets JSON."""
    kept = list(warnings or [])
    if command == "predict":
        return {"status": "failed", "output": None, "error": error, "warnings": kept}
    if command in ("run", "evaluate"):
        return {"status": "failed", "run_dir": None, "error": error, "warnings": kept}
    if command == "validate":
        return {"valid": False, "message": error, "issues": []}
    return {"status": "failed", "error": error}


def echo_json_failure(command: str, error: str, **fields: Any) -> None:
    """Print :func:`json_failure` (``fields`` replace its entries) on stdout."""
    click.echo(json.dumps({**json_failure(command, error), **fields}, indent=2))


@contextlib.contextmanager
def json_failures(command: str, as_json: bool) -> Iterator[None]:
    """With ``as_json``, a user's mistake inside (an MlstatError) prints the command's JSON
    failure object on stdout before :func:`user_errors` shows it on stderr."""
    from mlstat_core.errors import MlstatError

    try:
        yield
    except MlstatError as exc:
        if as_json:
            echo_json_failure(command, str(exc))
        raise


def _asks_for_json(args: list[str]) -> bool:
    """Whether ``--json`` is among the command-line ``args`` (before a ``--``)."""
    options = args[:args.index("--")] if "--" in args else args
    return "--json" in options


def _usage_failure(exc: click.UsageError, command: str) -> None:
    """Print the JSON failure of ``command`` for a command line that click rejects (an
    unknown option, a missing argument, a bad value); click's usage text still follows on
    stderr."""
    where = exc.ctx.command_path if exc.ctx is not None else "mlstat"
    echo_json_failure(command, f"{exc.format_message()} Try '{where} --help' for help.")


@contextlib.contextmanager
def usage_errors_as_json(args: list[str], command: str, has_json: bool = True
                         ) -> Iterator[None]:
    """Inside, a command line that click rejects prints ``command``'s JSON failure on stdout
    (:func:`_usage_failure`) when ``args`` ask for ``--json`` and the command has it."""
    given = list(args)  # click's parser consumes the list it parses
    try:
        yield
    except click.UsageError as exc:
        if has_json and _asks_for_json(given):
            _usage_failure(exc, command)
        raise


class JsonCommand(click.Command):
    """A command whose ``--json`` promise holds for a command line click rejects: its JSON
    failure object on stdout (:func:`json_failure`), then click's usage text on stderr."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        has_json = any(p.name == "as_json" for p in self.params)
        with usage_errors_as_json(args, info_name or self.name or "", has_json):
            return super().make_context(info_name, args, parent=parent, **extra)
