"""The ``mlstat`` command.

Start-up imports only click: pandas, scikit-learn and plugin code load inside the commands
that need them, so ``mlstat --help`` stays fast. Every user mistake (an ``MlstatError``) is
printed as one message with exit code 2, never as a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from mlstat_core import __version__
from mlstat_core.errors import one_line_warnings
from mlstat_core.formats import DEFAULT_CHUNK_SIZE
from mlstat_core.json_output import (
    JsonCommand,
    echo_json_failure,
    json_failures,
    usage_errors_as_json,
)


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def escape(text: str) -> str:
    """Text shown through rich as it is: '[quality]' in a message is not markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


@contextlib.contextmanager
def kept_warnings() -> Iterator[list[str]]:
    """The Python warnings raised inside, as their one-line text (each once), while
    :func:`one_line_warnings` still shows them."""
    import warnings

    kept: list[str] = []
    shown = warnings.showwarning

    def keep(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any
             ) -> None:
        text = " ".join(str(message).split())
        if text not in kept:
            kept.append(text)
        shown(message, category, *args, **kwargs)

    warnings.showwarning = keep
    try:
        yield kept
    finally:
        warnings.showwarning = shown


INTERRUPTED = "Interrupted: nothing was finished (a run folder, if any, is marked failed)"
"""What a command stopped by Ctrl-C or SIGTERM says, unless :data:`INTERRUPTED_BY` has its
own words."""
INTERRUPTED_BY = {
    "predict": "Interrupted: no predictions were written (the partial output is removed; an "
               "existing output file is left as it was)",
}


def user_errors(fn: Callable[..., Any], interrupted: str = INTERRUPTED) -> Callable[..., Any]:
    """Turn a user's mistake (an MlstatError, or a file that cannot be written for want of
    permission or space) into one message on stderr and exit code 2 (3 for a component's
    defect, 130 for Ctrl-C, 143 for SIGTERM, after the ``interrupted`` line); Python warnings
    are shown as one line each (:func:`one_line_warnings`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from mlstat_core.errors import MlstatError, user_message

        try:
            with one_line_warnings():
                return fn(*args, **kwargs)
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM during a run: no traceback
            click.echo(interrupted, err=True)
            sys.exit(getattr(exc, "exit_code", 130))
        except (MlstatError, OSError) as exc:
            message = user_message(exc)
            if message is None:
                raise
            click.echo(f"Error: {message}", err=True)
            sys.exit(getattr(exc, "exit_code", 2))

    return wrapper


class JsonGroup(click.Group):
    """The ``mlstat`` group: its commands are :class:`JsonCommand`, and a command line with
    ``--json`` that names no known command, or that the group itself rejects, fails as
    ``{"status": "failed", "error": ...}`` on stdout too."""

    command_class = JsonCommand

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        with usage_errors_as_json(args, ""):
            return super().make_context(info_name, args, parent=parent, **extra)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        with usage_errors_as_json(args, ""):
            return super().resolve_command(ctx, args)


@click.group(cls=JsonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlstat")
@click.option("--trace-hooks", is_flag=True, help="Print every plugin hook call and its results.")
def main(trace_hooks: bool) -> None:
    """mlstat: machine learning for official statistics.

    Run pipelines from TOML files, score new records with a saved run, and inspect plugins.
    A command given --json prints one JSON object on stdout also when it fails, a command
    line it rejects included (an unknown option, a missing argument, a bad value).
    """
    from mlstat_core.errors import escape_unencodable_output

    escape_unencodable_output()
    if trace_hooks:
        os.environ["MLSTAT_TRACE_HOOKS"] = "1"


# --- pipelines --------------------------------------------------------------------------------


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override a value of the pipeline file (repeatable), as mlstat run "
                   "--set does: check the exact command line a run will get.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def validate(file: str, overrides: tuple[str, ...], as_json: bool) -> None:
    """Check a pipeline file: its shape, then every component's params."""
    from mlstat_core.config import load_config
    from mlstat_core.errors import ConfigError

    try:
        config = load_config(file, list(overrides), cli=True)
    except ConfigError as exc:
        if as_json:
            echo_json_failure("validate", exc.args[0],
                              issues=[i.as_dict() for i in exc.issues])
            sys.exit(2)
        raise
    if as_json:
        click.echo(json.dumps({"valid": True, "components": config.component_names()}, indent=2))
    else:
        click.echo(f"{file} is valid: task {config.task.name}, model {config.model.name}, "
                   f"{len(config.indicators)} indicator(s)")


@main.command()
def schema() -> None:
    """Print the JSON Schema of the pipeline-file format."""
    from mlstat_core.config import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@main.command(name="run")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override a value of the pipeline file (repeatable).")
@click.option("--out", type=click.Path(file_okay=False), help="Folder that receives the run.")
@click.option("--strict", is_flag=True, help="Fail if any plugin fails to load.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the outcome as one JSON object on stdout (run id and folder, the "
                   "figures, warnings) for a scheduler; progress stays on stderr.")
def run_command(file: str, overrides: tuple[str, ...], out: str | None, strict: bool,
                as_json: bool) -> None:
    """Load, split, fit, predict, assess and persist: one run folder per run."""
    from mlstat_core.engine import run
    from mlstat_core.registry import get_registry

    registry = get_registry(strict=strict)
    _run_and_report(lambda progress: run(file, overrides=list(overrides), out=out,
                                         progress=progress, registry=registry, cli=True),
                    as_json)


@main.command(name="evaluate")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--input", "input_path", type=click.Path(dir_okay=False),
              help="Labelled file to evaluate on, read by the run's own loader settings (its "
                   "`path` replaced); relative to the current folder.")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override a value of the run's pipeline (repeatable), e.g. the loader "
                   "of a run trained on a built-in data set; a relative path starts at the "
                   "run's pipeline file's folder, as in the pipeline.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Folder that receives the evaluation folder (default: the run's folder's "
                   "parent).")
@click.option("--strict", is_flag=True, help="Fail if any plugin fails to load.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the outcome as one JSON object on stdout, as mlstat run --json.")
def evaluate_command(run_dir: str, input_path: str | None, overrides: tuple[str, ...],
                     out: str | None, strict: bool, as_json: bool) -> None:
    """Assess a finished run's saved model on a labelled file: one evaluation folder.

    Every record of the file is scored with the run's model (nothing is trained) and the
    run's indicators are computed on them; evaluations of several runs on one fixed file
    are ranked by mlstat compare, as runs tested on different splits are not.
    """
    from mlstat_core.evaluation import evaluate
    from mlstat_core.registry import get_registry

    registry = get_registry(strict=strict)
    _run_and_report(lambda progress: evaluate(run_dir, input_path, list(overrides), out,
                                              progress=progress, registry=registry, cli=True),
                    as_json)


def _run_and_report(start: Any, as_json: bool) -> None:
    """Run ``start(progress)`` (a run or an evaluation) with progress on stderr; print its
    outcome (``--json``: one object on stdout, also when it fails)."""
    console = _console(stderr=True)

    def progress(step: str, message: str) -> None:
        if message:
            console.print(f"[green]✓[/green] {step:<8} {escape(str(message))}")

    try:
        with console.status("running ...", spinner="dots") if console.is_terminal \
                else _nullcontext():
            result = start(progress)
    except BaseException as exc:  # the hooks that failed, then the run's error (user_errors)
        for warning in getattr(exc, "run_warnings", []):
            console.print(f"[yellow]warning: {escape(warning)}[/yellow]")
        if as_json:  # a scheduler learns where the failed run is and why, then the exit code
            from mlstat_core.engine import failure_message

            folder = getattr(exc, "run_dir", None)
            echo_json_failure("run", failure_message(exc), run_dir=folder and str(folder),
                              warnings=list(getattr(exc, "run_warnings", [])))
        raise
    if as_json:
        click.echo(json.dumps(run_outcome(result), indent=2))
    else:
        _print_summary(result)


def run_outcome(result: Any) -> dict[str, Any]:
    """What ``mlstat run --json`` prints: where the run is, its figures and its problems."""
    from mlstat_core.artifacts import to_jsonable

    figures = {r.name: to_jsonable(r.value) for r in result.indicators
               if r.status == "ok" and isinstance(r.value, int | float)}
    report = result.run_dir / "report.html"
    return {"run_id": result.run_id, "run_dir": str(result.run_dir), "status": result.status,
            "report": str(report) if report.exists() else None, "figures": figures,
            "failed": {r.name: str(r.error) for r in result.indicators if r.status == "failed"},
            "warnings": list(result.warnings)}


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _print_summary(result: Any) -> None:
    """The run's key figures and where its folder is on stdout; failed or unavailable
    figures and warnings on stderr, as ``mlstat predict`` gives its own, so that a scheduler
    can read results and problems apart."""
    console, problems = _console(), _console(stderr=True)
    headline = [r for r in result.indicators if r.headline and r.status == "ok"]
    shown = headline or [r for r in result.indicators if r.status == "ok"
                         and isinstance(r.value, int | float)][:5]
    from mlstat_core.report.html import fmt_interval, fmt_number

    for r in shown:  # written as the report writes them (10,677, not 1.068e+04)
        interval = f" {fmt_interval(r.interval)}" if r.interval else ""
        console.print(escape(f"  {r.name:<28} {fmt_number(r.value)}{interval}"))
    for r in result.indicators:
        if r.status == "failed":
            problems.print(f"  [yellow]indicator {escape(r.name)} failed: "
                           f"{escape(str(r.error))}[/yellow]")
        elif r.status == "skipped":
            problems.print(f"  [dim]{escape(r.name)}: not available "
                           f"({escape(str(r.explanation))})[/dim]")
    for warning in result.warnings:
        problems.print(f"  [yellow]warning: {escape(warning)}[/yellow]")
    report = result.run_dir / "report.html"
    console.print(f"Run folder: {escape(str(result.run_dir))}")
    if report.exists():
        console.print(f"Report:     {escape(str(report))}")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="File of new records: CSV, TSV, Parquet or Excel (.csv, .tsv, .txt, "
                   ".parquet, .pq, .xlsx, .xlsm, .xls; .xls needs python-calamine or xlrd "
                   "installed); relative to the current folder.")
@click.option("--output", "output_path", required=True, type=click.Path(),
              help="CSV or Parquet file to write (written atomically); an existing file is "
                   "replaced, but never the input or a file in a run folder. The spark "
                   "engine writes a Parquet folder.")
@click.option("--chunk-size", default=DEFAULT_CHUNK_SIZE, show_default=True,
              type=click.IntRange(min=1),
              help="Records scored at a time; bounds memory.")
@click.option("--encoding", default=None,
              help="Encoding of a CSV input (default: the `encoding` of the loader the run was "
                   "trained with, else utf-8).")
@click.option("--sep", help="Field separator of a CSV input, e.g. ';' or '\\t' (default: the "
                            "`sep` of the loader the run was trained with, else ',' or tab "
                            "for .tsv). Its `na_values` apply too.")
@click.option("--decimal", help="Decimal mark of numbers in a CSV or Excel input's text, e.g. "
                                "',' for 0,5 (default: the `decimal` of the loader the run was "
                                "trained with, else '.').")
@click.option("--sheet", help="Sheet of an Excel input: its name, or a number counting from 0 "
                              "(default: the `sheet` of the loader the run was trained with, "
                              "else the first).")
@click.option("--id-column", help="Input column identifying records (default: the model's id "
                                  "column if present, else a record_id column, else the row "
                                  "number).")
@click.option("--probabilities/--no-probabilities", default=True, show_default=True,
              help="Write one proba_<class> column per class; leave them out for production "
                   "volumes (the prediction, its confidence and the model's other columns "
                   "are kept).")
@click.option("--engine", default="local", show_default=True,
              help="Execution engine: local, or an engine plugin such as spark.")
@click.option("--spark-master", help="Spark master URL (spark engine; default local[*]).")
@click.option("--engine-option", "engine_options", multiple=True, metavar="KEY=VALUE",
              help="A param of the engine (repeatable), e.g. partitions=8.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the outcome as one JSON object on stdout (status, records, output, "
                   "the run that scored, warnings, notes, unseen labels, drift per column) "
                   "for a scheduler; a failure, a command line it rejects included, prints "
                   "{\"status\": "
                   "\"failed\", \"error\": ...} too.")
def predict(run_dir: str, input_path: str, output_path: str, chunk_size: int,
            encoding: str | None, sep: str | None, decimal: str | None, sheet: str | None,
            id_column: str | None, probabilities: bool, engine: str,
            spark_master: str | None, engine_options: tuple[str, ...], as_json: bool) -> None:
    """Score new records with the model of a finished run."""
    from mlstat_core.predict import predict_file

    with kept_warnings() as raised:  # shown on stderr as they come, and kept for --json
        try:
            if spark_master and engine in ("local", "core.local"):
                from mlstat_core.errors import ConfigError

                raise ConfigError(f"--spark-master {spark_master} needs --engine spark (the "
                                  f"records are scored by {engine} otherwise)")
            summary = predict_file(run_dir, input_path, output_path, chunk_size, encoding,
                                   engine=engine,
                                   engine_options=_engine_options(engine_options,
                                                                  spark_master),
                                   id_column=id_column, probabilities=probabilities, sep=sep,
                                   cli=True, sheet=sheet, decimal=decimal)
        except BaseException as exc:  # a scheduler reads why, then the exit code
            if as_json:
                from mlstat_core.engine import failure_message

                echo_json_failure("predict", failure_message(exc), warnings=list(raised))
            raise
    if as_json:
        from mlstat_core.artifacts import to_jsonable

        click.echo(json.dumps(to_jsonable({
            "status": "succeeded", "output": str(summary.output), "run": summary.run,
            "records": summary.records,
            "seconds": round(summary.seconds, 3), "engine": summary.engine,
            "warnings": raised + summary.warnings, "notes": summary.notes,
            "unseen_labels": summary.unseen_labels, "drift": summary.drift}), indent=2))
        return
    click.echo(f"{summary.records:,} records scored in {summary.seconds:.2f} s on "
               f"{summary.engine} -> {summary.output}")
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    for note in summary.notes + (summary.drift or {}).get("notes", []):
        click.echo(f"note: {note}", err=True)


def _engine_options(items: tuple[str, ...], spark_master: str | None) -> dict[str, Any]:
    """The engine's params from ``--engine-option key=value`` and ``--spark-master``."""
    from mlstat_core.config import parse_override
    from mlstat_core.errors import ConfigError

    options = {}
    for item in items:
        key = item.partition("=")[0].strip()
        if "=" not in item or not key or "." in key:
            raise ConfigError(f"--engine-option {item!r} must look like key=value (for "
                              "example --engine-option partitions=8)")
        path, value = parse_override(f"engine.{item}")
        options[path[1]] = value
    if spark_master:
        options["master"] = spark_master
    return options


# --- plugins ----------------------------------------------------------------------------------


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--strict", is_flag=True, help="Exit with an error if any plugin failed.")
def plugins(as_json: bool, strict: bool) -> None:
    """List plugins: distribution, version, components, status or error."""
    from mlstat_core.registry import discover

    with json_failures("plugins", as_json):
        registry = discover(strict=strict)
    records = list(registry.plugins.values())
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in records], indent=2))
        for note in registry.notes:
            click.echo(f"warning: {note}", err=True)
        return
    from rich.table import Table

    table = Table(title="mlstat plugins")
    for column in ("plugin", "distribution", "version", "status", "components"):
        table.add_column(column)
    for r in records:
        style = "red" if r.status == "failed" or r.problems else \
            ("yellow" if r.status != "loaded" else None)
        table.add_row(r.name, r.distribution or "-", r.version or "-",
                      r.status + (" (problems)" if r.problems else ""),
                      str(len(r.components)), style=style)
    console = _console()
    console.print(table)
    for r in records:
        for line in ([r.error] if r.error else []) + r.problems:
            console.print(f"[bold]{r.name}[/bold] ({r.distribution}): {escape(str(line))}")
    for conflict in registry.conflicts.values():
        console.print(f"conflict: {escape(str(conflict))}")
    for note in registry.notes:
        console.print(f"warning: {escape(note)}")


@main.command()
@click.option("--kind", type=click.Choice(["loader", "splitter", "transform", "model", "indicator",
                                           "engine"]),
              help="Only components of this kind.")
@click.option("--task", help="Only components serving this task type.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def components(kind: str | None, task: str | None, as_json: bool) -> None:
    """List components with their params, defaults and the values each param accepts."""
    from mlstat_core.registry import get_registry

    with json_failures("components", as_json):
        registry = get_registry()
        if task:
            registry.task(task)
    found = registry.find(kind, task)
    rows = [_component_row(c) for c in found]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    from mlstat_core.typenames import constraints_text

    console = _console()
    for row in rows:
        tasks = ", ".join(row["tasks"]) or "all tasks"
        extra = f", {row['dimension']}" if row["dimension"] else ""
        console.print(f"[bold]{row['name']}[/bold] ({row['kind']}{extra}; {tasks})")
        console.print(f"    {escape(row['description'])}")
        for p in row["params"]:
            keys_below = p["table"] and isinstance(p["default"], dict)
            default = ("required" if p["required"] else "its keys below" if keys_below
                       else f"default {p['default']!r}")
            limits = constraints_text(p["constraints"])
            accepted = f"{limits}; {default}" if limits else default
            console.print(f"    - {p['name']}: {escape(p['type'])} ({escape(accepted)}) "
                          f"{escape(p['description'])}")


def _component_row(entry: Any) -> dict[str, Any]:
    """A component as ``mlstat components --json`` lists it: each param with its type,
    default and ``constraints`` (bounds and allowed values, :func:`param_constraints`); a
    table of settings (``table``: true) is followed by its own keys (``index.period``)."""
    from mlstat_core.typenames import param_constraints, param_fields, plain_default, type_name

    spec = entry.spec
    params = []
    for key, info, table in param_fields(spec.params):
        params.append({"name": key, "type": type_name(info.annotation),
                       "required": info.is_required(), "default": plain_default(info),
                       "table": table, "constraints": param_constraints(info),
                       "description": info.description or ""})
    return {"name": entry.full_name, "kind": spec.kind, "plugin": entry.plugin,
            "distribution": entry.distribution, "tasks": list(spec.tasks),
            "dimension": spec.dimension, "description": spec.description, "params": params}


# Commands that live beside their feature; each module imports only click at load.
from mlstat_core.report.commands import compare_command, report_command  # noqa: E402
from mlstat_core.scaffold.command import new_plugin_command  # noqa: E402

for _command in (report_command, compare_command, new_plugin_command):
    main.add_command(_command)
for _name, _command in main.commands.items():  # every command: user mistakes as one line
    if _command.callback is not None:
        _command.callback = user_errors(_command.callback,
                                        INTERRUPTED_BY.get(_name, INTERRUPTED))

if __name__ == "__main__":  # pragma: no cover
    main()
