"""Who fulfils the contract: entry-point discovery, the plugin manager, the component registry.

Plugins are found with the standard library's :mod:`importlib.metadata` (entry-point group
``mlstat``). Only each plugin's light module is imported here; component code is imported when
a component is built. A plugin that fails to import, breaks the contract, or needs another
version of mlstat-core is recorded with its error and skipped; ``strict=True`` makes that fatal.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy
from pydantic import BaseModel, ValidationError

from mlstat_core import hookspecs
from mlstat_core.components import KINDS, ComponentSpec
from mlstat_core.errors import ConfigError, ConfigIssue, PluginError, validation_text
from mlstat_core.requirements import absent_extras, absent_requirements, declared_extras
from mlstat_core.tasks import BUILTIN_TASKS, TaskType
from mlstat_core.typenames import leaf_types

ENTRY_POINT_GROUP = "mlstat"
CORE_PLUGIN = "core"
CORE_DISTRIBUTION = "mlstat-core"
DISABLE_ENV = "MLSTAT_DISABLE_PLUGINS"
ALLOW_ENV = "MLSTAT_PLUGINS"
TRACE_ENV = "MLSTAT_TRACE_HOOKS"


@dataclass
class PluginRecord:
    """What discovery learned about one plugin."""

    name: str
    module: str
    distribution: str | None = None
    version: str | None = None
    status: str = "loaded"  # loaded | failed | disabled | incompatible
    error: str | None = None
    requires_core: str | None = None
    components: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "requires_core": self.requires_core,
            "components": list(self.components),
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class RegisteredComponent:
    """A component spec together with the plugin that declared it."""

    plugin: str
    distribution: str | None
    spec: ComponentSpec

    @property
    def full_name(self) -> str:
        return f"{self.plugin}.{self.spec.name}"

    @property
    def kind(self) -> str:
        return self.spec.kind

    def validate_params(self, params: dict[str, Any], where: str = "") -> BaseModel:
        """Check ``params`` against the component's own pydantic model (second pass)."""
        prefix = where or self.full_name
        wrong_booleans = boolean_issues(self.spec.params, params, prefix, "<params>")
        if wrong_booleans:
            raise ConfigError(f"invalid params for {self.full_name}", wrong_booleans)
        try:
            return self.spec.params.model_validate(params)
        except ValidationError as exc:
            found = issues_from_validation(exc, prefix, file="<params>")
            blame_defaults(found, exc, params, self)
            raise ConfigError(
                f"invalid params for {self.full_name}",
                explain_unknown(found, self.spec.params, self.full_name, prefix),
            ) from None

    def load_factory(self) -> Any:
        """The object the spec's factory names, or one PluginError that names this component,
        its distribution, what went wrong (with file and line where known) and the fix."""
        return load_factory(self.spec, self.full_name, self.plugin, self.distribution)

    def build(self, params: BaseModel | dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Import the factory and build the component with validated params."""
        if params is None or isinstance(params, dict):
            params = self.validate_params(params or {})
        return self.load_factory()(params, **kwargs)


class FactoryError(PluginError):
    """A component's factory cannot be imported: says who, what went wrong and the fix."""

    def __init__(self, who: str, what: str, fix: str) -> None:
        super().__init__(f"{who}: {what}. Fix: {fix}")
        self.what, self.fix = what, fix


def load_factory(spec: ComponentSpec, full_name: str, plugin: str,
                 distribution: str | None) -> Any:
    """Import ``spec.factory``; any failure (a missing dependency, a SyntaxError, an error
    raised while the module runs, a wrong attribute) becomes one :class:`FactoryError`."""
    import importlib

    module_name, _, attr = spec.factory.partition(":")
    who = f"{spec.kind} {full_name} (plugin {plugin!r}, distribution {distribution or 'unknown'})"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise FactoryError(
                who, f"its factory module {module_name!r} does not exist",
                f"correct the module in the spec's factory string {spec.factory!r}, or "
                f"reinstall {distribution or 'the plugin'}") from None
        if missing.split(".")[0] == module_name.split(".")[0]:  # its own package lacks it
            raise FactoryError(
                who, f"it cannot be imported: {module_name} imports {missing!r}, which its own "
                f"package lacks{_where(exc)}",
                f"a defect of the plugin (tell its authors), or a broken installation: "
                f"reinstall {distribution or 'the plugin'}") from None
        raise FactoryError(
            who, f"it cannot be imported: {module_name} needs the module {missing!r}, which "
            f"is not installed{_where(exc)}", install_hint(distribution, missing)) from None
    except (Exception, SystemExit) as exc:  # SyntaxError, or anything the module raises
        raise FactoryError(
            who, f"it cannot be imported: {type(exc).__name__} in {module_name}{_where(exc)}: "
            f"{_reason(exc)}",
            f"correct that file (a bug of the plugin: tell its authors), or skip the plugin "
            f"with {DISABLE_ENV}={plugin}") from None
    obj: Any = module
    try:
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError:
        raise FactoryError(
            who, f"factory {spec.factory!r} points nowhere ({module_name} has no {attr!r})",
            "correct the attribute after ':' in the spec's factory string") from None
    if isinstance(obj, type):
        from mlstat_core.components import factory_class_problem

        problem = factory_class_problem(obj, spec.kind, spec.params)
        if problem:
            raise FactoryError(who, *problem)
    return obj


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return exc.msg
    if isinstance(exc, SystemExit):
        return f"the plugin called sys.exit({exc.code!r})"
    return str(exc) or type(exc).__name__


def _where(exc: BaseException) -> str:
    """`` at file:line`` of the plugin code that failed (not of importlib), if known."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" at {exc.filename}:{exc.lineno}" if exc.lineno else f" at {exc.filename}"
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith("<") and "importlib" not in f.filename
              and f.filename != __file__]
    return f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""


OWN_PLUGINS = {name: f"mlstat-{name}" for name in ("coding", "editimpute", "imagery",
                                                   "spark", "twitter")}
"""The plugins of mlstat's own repository and their distributions, named when one is not
installed (a pipeline file names only the plugin)."""


def install_hint(distribution: str | None, missing: str) -> str:
    """What to install for a missing module: the distribution's extra that requires it when
    the distribution declares one, else the module itself (and the ``all`` extra, if any)."""
    top = missing.split(".", 1)[0]
    providing, declared = declared_extras(distribution, top)
    if providing:
        return f"install it with `pip install \"{distribution}[{providing[0]}]\"`"
    absent = absent_requirements(distribution)
    if absent:  # module names are not package names (sklearn, PIL): name what it declared
        return (f"install what {distribution} declares and lacks ({', '.join(absent[:5])}) "
                f"with `pip install \"{distribution}\"`")
    hint = f"install it with `pip install {top}`"
    extras = absent_extras(distribution)
    if extras:  # module names are not package names (cv2 comes from opencv-python)
        options = ", ".join(f"`pip install \"{distribution}[{extra}]\"` ({', '.join(reqs)})"
                            for extra, reqs in extras.items())
        return (f"it may come from an optional extra of {distribution} that is not installed: "
                f"{options}; otherwise {hint}")
    if "all" in declared:
        hint += f", or every optional dependency with `pip install \"{distribution}[all]\"`"
    return hint


def boolean_issues(model: type[BaseModel], given: Any, section: str,
                   source: str) -> list[ConfigIssue]:
    """Issues for ``true``/``false`` given to a number setting: pydantic would read them as
    1 and 0 (``bootstrap = true`` would bootstrap once), so they are errors here."""
    if not isinstance(given, dict):
        return []
    found = []
    for key, value in given.items():
        field_info = model.model_fields.get(key) if isinstance(key, str) else None
        if not isinstance(value, bool) or field_info is None:
            continue
        types = [t for t in leaf_types(field_info.annotation) if t is not type(None)]
        if types and all(t in (int, float) for t in types):
            what = "an integer" if types == [int] else "a number"
            found.append(ConfigIssue(source, f"{section}.{key}", (
                f"expects {what}, not the boolean {str(value).lower()} (it would be read as "
                f"{int(value)}); write {what} such as {field_info.default!r}"
                if field_info.default not in (None, ...) and not isinstance(
                    field_info.default, bool) else
                f"expects {what}, not the boolean {str(value).lower()}")))
    return found


_UNION_TAG = re.compile(r"^(int|float|str|bool|none|bytes|[a-z-]+\[.*\])$")
"""A step of a pydantic error location that names a member of a union (``float``,
``literal['cv','argmax']``, ``function-after[...]``), not a field."""


def _grouped_errors(exc: ValidationError) -> list[tuple[tuple[Any, ...], list[Any]]]:
    """Pydantic's errors grouped by field: the errors of the members of one union (a rule
    name or a number) are one group, located at the field itself."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for err in exc.errors():
        loc = tuple(p for p in err["loc"]
                    if not (isinstance(p, str) and _UNION_TAG.match(p) and "." not in p))
        groups.setdefault(loc, []).append(err)
    return list(groups.items())


def issues_from_validation(exc: ValidationError, prefix: str, file: str) -> list[ConfigIssue]:
    """Turn pydantic's errors into ConfigIssues that name the field and what was expected:
    one issue per field (a value that is none of a union's members is one issue)."""
    found: list[ConfigIssue] = []
    for loc_parts, errs in _grouped_errors(exc):
        loc = ".".join(str(p) for p in loc_parts)
        field_name = f"{prefix}.{loc}" if loc else prefix
        err = errs[0]
        given = err.get("input")
        if err["type"] == "extra_forbidden":
            message = "unknown parameter"
        elif err["type"] == "missing":
            message = "required parameter is missing"
        else:
            texts = list(dict.fromkeys(validation_text(e) for e in errs))
            message = texts[0] + "".join(
                ", or " + t.removeprefix("Input should be ") for t in texts[1:])
            if loc_parts or not isinstance(given, Mapping):  # not a whole table
                message += f" (got {given!r})"
        suggestion = next((c for e in errs if (c := _closest_choice(e))), None)
        found.append(ConfigIssue(file, field_name, message, suggestion))
    return found


def blame_defaults(issues: list[ConfigIssue], exc: ValidationError, given: Mapping[str, Any],
                   entry: RegisteredComponent | None) -> list[ConfigIssue]:
    """Reword the issues (made by :func:`issues_from_validation` from ``exc``) about a value
    the user did not give: it is the params model's own default, a defect of the plugin."""
    if entry is None:
        return issues
    for issue, (loc, errs) in zip(issues, _grouped_errors(exc), strict=False):
        err = errs[0]
        if not loc or err["type"] in ("missing", "extra_forbidden") or loc[0] in given:
            continue
        issue.message = (
            f"the default of {'.'.join(map(str, loc))} in the params of {entry.full_name} is "
            f"invalid: {validation_text(err)} (default {err.get('input')!r}). A defect of "
            f"plugin {entry.plugin!r}'s params defaults (distribution {entry.distribution}): "
            "report it to its authors; meanwhile set a valid value in this table")
    return issues


def _closest_choice(err: Mapping[str, Any]) -> str | None:
    """For a text that is none of a setting's choices (``confidence = "tpo"``), the choice
    it is closest to."""
    given = err.get("input")
    if err["type"] != "literal_error" or not isinstance(given, str):
        return None
    choices = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
    close = difflib.get_close_matches(given, choices, n=1) \
        or difflib.get_close_matches(given.lower(), choices, n=1)
    return close[0] if close else None


def explain_unknown(issues: list[ConfigIssue], params: type[BaseModel], owner: str,
                    prefix: str) -> list[ConfigIssue]:
    """Make each 'unknown parameter' issue say what the params take (or, for a key of a
    nested table such as ``[model.normalise]``, what that table takes) and suggest the
    closest name."""
    for issue in issues:
        if issue.message != "unknown parameter" or not issue.field.startswith(prefix + "."):
            continue
        *tables, name = issue.field[len(prefix) + 1:].split(".")
        model, where = params, owner
        for table in tables:
            nested = _nested_params(model, table)
            if nested is None:
                break
            model, where = nested, f"{owner} [{'.'.join(tables)}]"
        fields = list(model.model_fields)
        close = difflib.get_close_matches(name, fields, n=1)
        issue.suggestion = close[0] if close else None
        issue.message = (f"unknown parameter for {where}; it takes "
                         f"{', '.join(fields) or 'no params'}")
    return issues


def _nested_params(model: type[BaseModel], name: str) -> type[BaseModel] | None:
    """The params model of a nested table (``normalise`` of a coding model), if any."""
    from mlstat_core.typenames import nested_params

    field = model.model_fields.get(name)
    found = nested_params(field.annotation) if field is not None else None
    return found[0] if found else None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(map(str, err['loc'])) or 'params'}: {validation_text(err)}"


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Tracer:
    """Prints every hook call, its implementations and their results (``--trace-hooks``).

    Set ``MLSTAT_TRACE_HOOKS=1`` (or pass ``--trace-hooks`` to the CLI) and every call of a
    component hook at discovery and of a lifecycle hook during a run is written to stderr, one
    line per plugin implementation: hook, arguments, plugin, result (or the error it raised)
    and the time it took.
    """

    PREFIX = "[mlstat hook]"

    def __init__(self, write: Callable[[str], Any] | None = None) -> None:
        self.write = write or (lambda line: print(line, file=sys.stderr, flush=True))

    @staticmethod
    def _args(kwargs: Mapping[str, Any]) -> str:
        return ", ".join(f"{k}={_short(v, 80)}" for k, v in kwargs.items())

    def call(self, hook: str, plugin: str, kwargs: Mapping[str, Any], result: Any,
             seconds: float | None = None) -> None:
        shown = result
        if isinstance(result, list) and result and isinstance(result[0], ComponentSpec):
            shown = [f"{s.kind}:{s.name}" for s in result]
        took = f" ({seconds * 1000:.1f} ms)" if seconds is not None else ""
        self.write(f"{self.PREFIX} {hook}({self._args(kwargs)}) <- {plugin}: "
                   f"{_short(shown, 300)}{took}")

    def raised(self, hook: str, plugin: str, kwargs: Mapping[str, Any], error: BaseException,
               seconds: float | None = None) -> None:
        took = f" ({seconds * 1000:.1f} ms)" if seconds is not None else ""
        self.write(f"{self.PREFIX} {hook}({self._args(kwargs)}) <- {plugin}: raised "
                   f"{type(error).__name__}: {error}{took}")


class Registry:
    """The plugin manager plus an index of every component by kind and full name."""

    def __init__(self, tracer: Tracer | None = None) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginRecord] = {}
        self.components: dict[str, dict[str, RegisteredComponent]] = {k: {} for k in KINDS}
        self.conflicts: dict[str, str] = {}
        self.refused: dict[str, str] = {}
        """Full name -> why the registry skipped a component its plugin declared."""
        self.notes: list[str] = []  # e.g. names in MLSTAT_PLUGINS that match no plugin
        self.tasks: dict[str, TaskType] = {t.name: t for t in BUILTIN_TASKS}
        self.task_owners: dict[str, str] = {t.name: "core" for t in BUILTIN_TASKS}
        self.tracer = tracer
        if tracer is not None:
            # direct ``pm.hook.<name>(...)`` calls are traced too (the registry's own calls
            # go through _call_plugin_hook and notify, which trace each implementation)
            def before(hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
                tracer.write(f"{Tracer.PREFIX} {hook_name}({Tracer._args(kwargs)}) -> "
                             f"{[i.plugin_name for i in impls]}")

            def after(outcome: Any, hook_name: str, impls: list[Any],
                      kwargs: dict[str, Any]) -> None:
                error = outcome.exception
                shown = f"raised {error!r}" if error else _short(outcome.get_result(), 300)
                tracer.write(f"{Tracer.PREFIX} {hook_name} finished: {shown}")

            self.pm.add_hookcall_monitoring(before, after)

    # -- registration ------------------------------------------------------------------

    def register(self, module: Any, name: str, record: PluginRecord) -> None:
        """Register one plugin module and index what its hooks declare."""
        self.pm.register(module, name=name)
        self.plugins[name] = record
        self._check_hook_names(name, record)
        self._collect_tasks(name, record)
        for kind, hook_name in hookspecs.COMPONENT_HOOKS.items():
            for spec in self._call_plugin_hook(name, hook_name, record):
                self._add(kind, name, record, spec)

    def _plugin_impls(self, hook_name: str, plugin: str) -> list[Any]:
        hook = getattr(self.pm.hook, hook_name)
        return [impl for impl in hook.get_hookimpls() if impl.plugin_name == plugin]

    def _check_hook_names(self, plugin: str, record: PluginRecord) -> None:
        """Report hook implementations the contract does not know, and functions named like a
        hook but not marked ``@hookimpl`` (both are silently never called otherwise)."""
        module = self.pm.get_plugin(plugin)
        known = [n for n in dir(hookspecs) if n.startswith(f"{hookspecs.PROJECT}_")]
        for attr in dir(module):
            opts = self.pm.parse_hookimpl_opts(module, attr)
            if opts is None:
                if attr in known and callable(getattr(module, attr, None)):
                    record.problems.append(
                        f"function {attr} in {record.module} is not marked @hookimpl, so it "
                        "is never called. Decorate it with @hookimpl (from mlstat_core import "
                        "hookimpl).")
                continue
            attr = opts.get("specname") or attr
            caller = getattr(self.pm.hook, attr, None)
            if caller is None or caller.spec is None:
                close = difflib.get_close_matches(attr, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                record.problems.append(
                    f"hook {attr} is not part of the mlstat contract{hint}; it is never "
                    f"called. Rename it in {record.module} (distribution {record.distribution})."
                )

    def _call_plugin_hook(self, plugin: str, hook_name: str, record: PluginRecord,
                          trace: bool = True) -> list[Any]:
        tracer = self.tracer if trace else None
        results: list[Any] = []
        for impl in self._plugin_impls(hook_name, plugin):
            start = time.perf_counter()
            try:
                value = impl.function()
            except (Exception, SystemExit) as exc:  # a broken plugin never breaks the host
                if tracer:
                    tracer.raised(hook_name, plugin, {}, exc, time.perf_counter() - start)
                record.problems.append(
                    f"hook {hook_name} of plugin {plugin!r} raised {type(exc).__name__}: "
                    f"{_reason(exc)}. "
                    f"Fix the hook in {record.module} (distribution {record.distribution}); "
                    "the plugin's other hooks still count."
                )
                continue
            if tracer:
                tracer.call(hook_name, plugin, {}, value, time.perf_counter() - start)
            if value is None:
                record.problems.append(
                    f"hook {hook_name} of plugin {plugin!r} returned None, not a list (a "
                    f"missing `return`?). Return a list, [] for none, in {record.module}.")
                continue
            if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
                problem = (f"hook {hook_name} of plugin {plugin!r} must return a list, got "
                           f"{_short(value)}. Fix the hook in {record.module}.")
                record.problems.append(problem)
                if isinstance(value, ComponentSpec) and isinstance(value.name, str):
                    self.refused.setdefault(f"{plugin}.{value.name}", problem)
                continue
            results.extend(value)
        return results

    def _collect_tasks(self, plugin: str, record: PluginRecord) -> None:
        for task in self._call_plugin_hook(plugin, "mlstat_tasks", record):
            if not isinstance(task, TaskType):
                record.problems.append(f"mlstat_tasks returned {task!r}, not a TaskType")
                continue
            known = self.tasks.setdefault(task.name, task)
            owner = self.task_owners.setdefault(task.name, plugin)
            if known != task:  # the same definition twice is fine; another one is ignored
                record.problems.append(
                    f"task {task.name!r} of plugin {plugin!r} is ignored: plugin {owner!r} "
                    "already declares a task of that name with other columns or tags. Give "
                    f"yours another name in {record.module}, or use theirs as it is.")

    def _add(self, kind: str, plugin: str, record: PluginRecord, spec: Any) -> None:
        if not isinstance(spec, ComponentSpec):
            record.problems.append(f"{kind} hook returned {spec!r}, not a ComponentSpec")
            return
        problems = spec.problems()
        if spec.kind != kind:
            problems.append(f"declared by the {kind} hook but has kind {spec.kind!r}")
        if problems:
            problem = (
                f"{kind} {spec.name!r} of plugin {plugin!r} skipped: " + "; ".join(problems)
                + f". Fix its ComponentSpec in {record.module} "
                f"(distribution {record.distribution})."
            )
            record.problems.append(problem)
            if isinstance(spec.name, str):
                self.refused.setdefault(f"{plugin}.{spec.name}", problem)
            return
        entry = RegisteredComponent(plugin, record.distribution, spec)
        existing = self.components[kind].get(entry.full_name)
        if existing is not None:
            if existing.plugin == plugin and existing.distribution == entry.distribution:
                where = f"plugin {plugin!r} (distribution {entry.distribution}); rename one"
            else:
                where = (f"distributions {existing.distribution} and {entry.distribution}; "
                         "uninstall one of them or rename its entry point")
            self.conflicts[entry.full_name] = (
                f"{kind} {entry.full_name} is declared twice, by {where}"
            )
            record.problems.append(self.conflicts[entry.full_name])
            return
        if kind == "engine":
            self._note_short_name_clash(entry)
        self.components[kind][entry.full_name] = entry
        record.components.append(f"{kind}:{spec.name}")

    def check_tasks(self) -> None:
        """Once every plugin (and the tasks it declares) is registered: a component whose
        ``tasks`` are all unknown serves nothing and is refused; an unknown task beside known
        ones (a typo, or a task of a plugin not installed) is reported."""
        for kind, entries in self.components.items():
            for full_name, entry in list(entries.items()):
                unknown = [t for t in entry.spec.tasks if t not in self.tasks]
                if not unknown:
                    continue
                record = self.plugins[entry.plugin]
                named = "; ".join(f"unknown task {t!r}{self._close_task(t)}" for t in unknown)
                where = f"Fix its ComponentSpec in {record.module} (distribution " \
                        f"{entry.distribution}); known tasks: {', '.join(sorted(self.tasks))}"
                if len(unknown) < len(entry.spec.tasks):
                    record.problems.append(f"{kind} {full_name}: {named}. {where}.")
                    continue
                problem = f"{kind} {entry.spec.name!r} of plugin {entry.plugin!r} skipped: " \
                          f"{named}. {where}."
                del entries[full_name]
                record.components.remove(f"{kind}:{entry.spec.name}")
                record.problems.append(problem)
                self.refused.setdefault(full_name, problem)

    def _close_task(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self.tasks), n=1)
        return f" (did you mean {close[0]!r}?)" if close else ""

    def _note_short_name_clash(self, entry: RegisteredComponent) -> None:
        """Engines are named by their short name too (``engine = "local"``): say when a new
        one takes a short name another plugin's engine already has."""
        same = [e for e in self.components["engine"].values()
                if e.spec.name == entry.spec.name and e.plugin != entry.plugin]
        if not same:
            return
        others = " and ".join(e.full_name for e in same)
        short = entry.spec.name
        if any(e.plugin == CORE_PLUGIN for e in same):
            meaning = f"which keeps {short!r}"
        else:
            meaning = f"so {short!r} is ambiguous"
        self.notes.append(
            f"engine {entry.full_name} (distribution {entry.distribution}) shares its short "
            f"name {short!r} with {others}, {meaning}: name it in full ({entry.full_name!r}) "
            f"in [predict] engine, or rename the engine in plugin {entry.plugin!r}"
        )

    # -- lookup ------------------------------------------------------------------------

    def get(self, kind: str, name: str) -> RegisteredComponent:
        """The component ``plugin.name`` of this kind, or a ConfigError with a suggestion."""
        if name in self.conflicts:
            raise PluginError(self.conflicts[name])
        found = self.components.get(kind, {}).get(name)
        if found is not None:
            return found
        raise ConfigError(self.unknown_message(kind, name))

    def unknown_message(self, kind: str, name: str) -> str:
        message = f"unknown {kind} {name!r}"
        reason = self.plugin_failure(name, kind)
        if reason:
            message += f"; {reason}"
        suggestion = self.suggest(kind, name)
        if suggestion:
            message += f" (did you mean '{suggestion}'?)"
        else:
            message += f"; see `mlstat components --kind {kind}`"
        return message

    def plugin_failure(self, component: str, kind: str | None = None) -> str | None:
        """Why a component is not available, if its plugin says: the plugin is not loaded,
        or it declared the component but the registry refused it (and why)."""
        prefix = component.split(".", 1)[0]
        record = self.plugins.get(prefix) or next(  # clashing claims are keyed "name (dist)"
            (r for r in self.plugins.values() if r.name == prefix and r.status != "loaded"), None)
        if record is not None and record.status != "loaded":
            return f"its plugin {record.name!r} is {record.status}: {record.error}"
        if record is None and "." in component and component not in self.refused:
            names = sorted({r.name for r in self.plugins.values()} | {"core"})
            missing = f"no installed plugin is named {prefix!r} (installed: {', '.join(names)})"
            if prefix in OWN_PLUGINS:
                return (f"{missing}: it is one of mlstat's own plugins, the distribution "
                        f"{OWN_PLUGINS[prefix]}; install it with `pip install "
                        f"{OWN_PLUGINS[prefix]}`")
            return (f"{missing}: install the plugin that provides it; for your own plugin, "
                    "check that its pyproject.toml names it under "
                    "[project.entry-points.mlstat] and reinstall it")
        if component in self.refused:
            return f"plugin {prefix!r} declares it, but it was refused: {self.refused[component]}"
        if record is not None and kind in hookspecs.COMPONENT_HOOKS:
            hook = hookspecs.COMPONENT_HOOKS[kind]
            broken = [p for p in record.problems if p.startswith(f"hook {hook} ")]
            if broken:
                return f"plugin {prefix!r} has a broken {hook} hook: {broken[0]}"
            if not self._plugin_impls(hook, prefix):  # a misnamed or undecorated hook
                near = [p for p in record.problems if hook in p]
                if near:
                    return f"plugin {prefix!r} has no {hook} hook: {near[0]}"
        return None

    def suggest(self, kind: str, name: str) -> str | None:
        """The registered name closest to ``name`` (never ``name`` itself)."""
        names = [n for n in self.components.get(kind, {}) if n != name]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        if close:
            return close[0]
        # a bare component name matches the same name under any plugin
        tail = [n for n in names if n.split(".", 1)[-1] == name.split(".", 1)[-1]]
        return tail[0] if tail else None

    def find(self, kind: str | None = None, task: str | None = None) -> list[RegisteredComponent]:
        kinds = [kind] if kind else list(KINDS)
        found = [c for k in kinds for c in self.components.get(k, {}).values()]
        if task:
            found = [c for c in found if c.spec.serves(task)]
        return sorted(found, key=lambda c: (c.kind, c.full_name))

    def engine(self, name: str) -> RegisteredComponent:
        """An engine by full name (``core.local``) or short name (``local``, ``spark``).

        A short name several plugins declare means the core's engine when the core has one;
        otherwise it is ambiguous and the error lists the full names to use."""
        engines = self.components.get("engine", {})
        if name in engines:
            return engines[name]
        short = [e for e in engines.values() if e.spec.name == name]
        if len(short) == 1:
            return short[0]
        core = [e for e in short if e.plugin == CORE_PLUGIN]
        if core:
            return core[0]
        if short:
            full = sorted(e.full_name for e in short)
            raise ConfigError(
                f"engine name {name!r} is ambiguous: plugins "
                f"{' and '.join(sorted(e.plugin for e in short))} each declare one; give the "
                f"full name ({' or '.join(repr(f) for f in full)})")
        counts: dict[str, int] = {}
        for e in engines.values():
            counts[e.spec.name] = counts.get(e.spec.name, 0) + 1
        known = ", ".join(sorted(e.spec.name if counts[e.spec.name] == 1 else e.full_name
                                 for e in engines.values()))
        hint = ""
        if name == "spark":
            hint = "; the Spark engine is a plugin: `pip install -e plugins/mlstat-spark` " \
                   "(or `pip install mlstat-spark`)"
        reason = self.plugin_failure(name, "engine")
        raise ConfigError(f"unknown engine {name!r}; installed engines: {known}{hint}"
                          + (f"; {reason}" if reason else ""))

    def task(self, name: str) -> TaskType:
        if name not in self.tasks:
            raise ConfigError(f"unknown task {name!r}{self._close_task(name)}; known tasks: "
                              f"{', '.join(sorted(self.tasks))}")
        return self.tasks[name]

    def distributions_used(self, names: Iterable[str]) -> dict[str, str | None]:
        """Plugin distribution -> version, for the plugins behind these component names."""
        used: dict[str, str | None] = {}
        for name in names:
            record = self.plugins.get(name.split(".", 1)[0])
            if record and record.distribution:
                used[record.distribution] = record.version
        return used

    # -- lifecycle hooks -----------------------------------------------------------------

    def notify(self, hook_name: str, **kwargs: Any) -> list[str]:
        """Call a lifecycle hook on every plugin; a failing implementation is reported, not
        raised, so a broken tracker cannot fail a run. Returns the warnings."""
        warnings: list[str] = []
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            args = {k: v for k, v in kwargs.items() if k in impl.argnames}
            start = time.perf_counter()
            try:
                value = impl.function(**args)
            except (Exception, SystemExit) as exc:  # sys.exit() in a plugin ends no run
                if self.tracer:
                    self.tracer.raised(hook_name, impl.plugin_name, args, exc,
                                       time.perf_counter() - start)
                record = self.plugins.get(impl.plugin_name)
                dist = record.distribution if record else None
                warnings.append(
                    f"plugin {impl.plugin_name} (distribution {dist}): {hook_name} raised "
                    f"{type(exc).__name__}: {exc}; the run went on without it"
                )
                continue
            if self.tracer:
                self.tracer.call(hook_name, impl.plugin_name, args, value,
                                 time.perf_counter() - start)
        return warnings


def _unmatched_env_names(disabled: set[str], allowed: set[str], found: set[str]) -> list[str]:
    """Names in the disable and allow lists that match no installed plugin (a typo, a capital
    letter), and the core, which neither list can turn off."""
    notes = []
    for env, names in ((DISABLE_ENV, disabled), (ALLOW_ENV, allowed)):
        if CORE_PLUGIN in names:
            notes.append(f"{env} names {CORE_PLUGIN!r}: the core's components are always "
                         "loaded")
        for name in sorted(names - found - {CORE_PLUGIN}):
            close = difflib.get_close_matches(name.lower(), sorted(found), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            notes.append(f"{env} names {name!r}, which is no installed plugin{hint}; "
                         f"the installed ones: {', '.join(sorted(found))}")
    return notes


def _split_env(name: str) -> set[str]:
    return {p.strip() for p in os.environ.get(name, "").split(",") if p.strip()}


def _core_version() -> str:
    from mlstat_core import __version__

    return __version__


def core_requirement(dist: metadata.Distribution | None) -> str | None:
    """The version range of mlstat-core that a plugin's distribution declares, if any."""
    if dist is None:
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    for line in dist.requires or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.name.replace("_", "-").lower() == CORE_DISTRIBUTION and not req.marker:
            return str(req.specifier) or None
    return None


def _is_compatible(spec: str | None) -> bool:
    if not spec:
        return True
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(spec).contains(_core_version(), prereleases=True)


def _record_for(ep: metadata.EntryPoint) -> PluginRecord:
    dist = getattr(ep, "dist", None)
    return PluginRecord(
        name=ep.name,
        module=ep.value,
        distribution=dist.metadata["Name"] if dist else None,
        version=dist.version if dist else None,
        requires_core=core_requirement(dist),
    )


def _group_entry_points(points: Iterable[metadata.EntryPoint],
                        ) -> dict[str, list[metadata.EntryPoint]]:
    """Entry points by plugin name; the same distribution seen twice counts once."""
    grouped: dict[str, list[metadata.EntryPoint]] = {}
    for ep in sorted(points, key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        key = (dist.metadata["Name"] if dist else None, ep.value)
        claims = grouped.setdefault(ep.name, [])
        if all((getattr(c, "dist", None) and c.dist.metadata["Name"], c.value) != key
               for c in claims):
            claims.append(ep)
    return grouped


def discover(
    strict: bool = False,
    tracer: Tracer | None = None,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
) -> Registry:
    """Build a registry from the core's built-ins and every installed ``mlstat`` entry point."""
    if tracer is None and os.environ.get(TRACE_ENV, "") not in ("", "0"):
        tracer = Tracer()
    registry = Registry(tracer=tracer)
    from mlstat_core.builtins import plugin as core_plugin

    registry.register(
        core_plugin,
        CORE_PLUGIN,
        PluginRecord(
            CORE_PLUGIN, core_plugin.__name__, CORE_DISTRIBUTION, _core_version()
        ),
    )
    disabled, allowed = _split_env(DISABLE_ENV), _split_env(ALLOW_ENV)
    points = list(entry_points if entry_points is not None else
                  metadata.entry_points(group=ENTRY_POINT_GROUP))
    for name, claims in _group_entry_points(points).items():
        records = [_record_for(ep) for ep in claims]
        if name == CORE_PLUGIN:  # the core's own entry point, if it declares one, is built in
            keep = [i for i, r in enumerate(records) if r.distribution != CORE_DISTRIBUTION]
            claims, records = [claims[i] for i in keep], [records[i] for i in keep]
            if not claims:
                continue
        if len(claims) > 1 or name == CORE_PLUGIN:
            owners = [CORE_DISTRIBUTION] if name == CORE_PLUGIN else []
            owners += [r.distribution or r.module for r in records]
            for record in records:
                record.status = "failed"
                record.error = (
                    f"plugin name {name!r} is reserved for mlstat's own components "
                    f"({CORE_DISTRIBUTION}), and distribution "
                    f"{record.distribution or record.module} claims it: rename its entry "
                    "point in the [project.entry-points.mlstat] table of its pyproject.toml, "
                    "or uninstall it"
                    if name == CORE_PLUGIN else
                    f"plugin name {name!r} is claimed by distributions {' and '.join(owners)}; "
                    "uninstall all but one of them (pip uninstall ...)"
                )
                registry.plugins[f"{name} ({record.distribution or record.module})"] = record
            continue
        ep, record = claims[0], records[0]
        registry.plugins[name] = record
        if not name.isidentifier():
            record.status = "failed"
            record.error = (
                f"plugin name {name!r} (distribution {record.distribution}) is not an identifier "
                "(letters, digits, _); rename its entry point in the [project.entry-points."
                "mlstat] table of its pyproject.toml"
            )
            continue
        if name in disabled or (allowed and name not in allowed):
            record.status = "disabled"
            record.error = (f"disabled by {DISABLE_ENV}" if name in disabled else
                            f"not listed in {ALLOW_ENV}")
            continue
        if not _is_compatible(record.requires_core):
            record.status = "incompatible"
            record.error = (
                f"needs mlstat-core {record.requires_core}, installed is {_core_version()}; "
                f"install a version of {record.distribution} made for mlstat-core "
                f"{_core_version()}, or mlstat-core{record.requires_core}"
            )
            continue
        try:
            module = ep.load()
        except (Exception, SystemExit) as exc:  # a plugin's sys.exit() must not end mlstat
            record.status = "failed"
            fix = f"Fix or reinstall {record.distribution or 'its distribution'}"
            module_name = ep.value.split(":", 1)[0]
            if isinstance(exc, ModuleNotFoundError) and exc.name and \
                    exc.name.split(".")[0] != module_name.split(".")[0]:  # not its own package
                hint = install_hint(record.distribution, exc.name)  # a dependency is missing
                fix = f"{hint[0].upper()}{hint[1:]} (needed by {record.distribution})"
            record.error = (
                f"import of {ep.value} failed{_where(exc)}: {type(exc).__name__}: "
                f"{_reason(exc)}. "
                f"{fix}; {DISABLE_ENV}={name} skips it"
            )
            continue
        try:
            registry.register(module, name, record)
        except Exception as exc:  # pluggy refuses hook implementations that break a spec
            if registry.pm.is_registered(module):
                registry.pm.unregister(module)
            record.status = "failed"
            record.error = (
                f"{ep.value} breaks the hook contract: {type(exc).__name__}: {exc}. Fix its "
                f"hook implementations (see docs/hooks.md); distribution {record.distribution}"
            )
    registry.check_tasks()
    registry.notes += _unmatched_env_names(disabled, allowed, set(registry.plugins))
    if strict:
        bad = [r for r in registry.plugins.values()
               if r.status in ("failed", "incompatible") or r.problems]
        if bad or registry.conflicts:
            lines = [f"{r.name} ({r.distribution}): {r.error or '; '.join(r.problems)}"
                     for r in bad]
            lines += [c for c in registry.conflicts.values() if not any(c in r.problems
                                                                        for r in bad)]
            raise PluginError("plugins failed to load (strict mode): " + " | ".join(lines))
    return registry


_CACHE: dict[bool, tuple[tuple[Any, ...], Registry]] = {}


def get_registry(strict: bool = False, refresh: bool = False) -> Registry:
    """The process-wide registry: discovered once, and again where what discovery reads has
    changed since (the ``MLSTAT_PLUGINS``, ``MLSTAT_DISABLE_PLUGINS`` and
    ``MLSTAT_TRACE_HOOKS`` variables, the installed plugins' entry points: a notebook that
    sets one or installs a plugin between two runs), or with ``refresh=True``."""
    points = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    inputs = (tuple(os.environ.get(name) for name in (ALLOW_ENV, DISABLE_ENV, TRACE_ENV)),
              tuple(sorted((ep.name, ep.value) for ep in points)))
    cached = _CACHE.get(strict)
    if refresh or cached is None or cached[0] != inputs:
        _CACHE[strict] = (inputs, discover(strict=strict, entry_points=points))
    return _CACHE[strict][1]
