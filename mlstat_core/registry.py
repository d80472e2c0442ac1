"""Who fulfils the contract: entry-point discovery, the plugin manager, the component registry.

Plugins are found with the standard library's :mod:`importlib.metadata` (entry-point group
``mlstat``). Only each plugin's light module is imported here; component code is imported when
a component is built. A plugin that fails to import, breaks the contract, or needs another
version of mlstat-core is recorded with its error and skipped; ``strict=True`` makes that fatal.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy
from pydantic import BaseModel, ValidationError

from mlstat_core import hookspecs
from mlstat_core.components import KINDS, ComponentSpec
from mlstat_core.errors import ConfigError, ConfigIssue, PluginError
from mlstat_core.tasks import BUILTIN_TASKS, TaskType

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
        try:
            return self.spec.params.model_validate(params)
        except ValidationError as exc:
            raise ConfigError(
                f"invalid params for {self.full_name}",
                issues_from_validation(exc, where or self.full_name, file="<params>"),
            ) from None

    def build(self, params: BaseModel | dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Import the factory and build the component with validated params."""
        if params is None or isinstance(params, dict):
            params = self.validate_params(params or {})
        try:
            factory = self.spec.load_factory()
        except ImportError as exc:
            raise PluginError(
                f"component {self.full_name} (distribution {self.distribution}) cannot be "
                f"imported: {exc}. Install what it needs, for example "
                f"`pip install {self.distribution or self.plugin}[all]`."
            ) from None
        except AttributeError as exc:
            raise PluginError(
                f"component {self.full_name} (distribution {self.distribution}): factory "
                f"{self.spec.factory!r} points nowhere ({exc}). Fix the spec's factory string."
            ) from None
        return factory(params, **kwargs)


def issues_from_validation(exc: ValidationError, prefix: str, file: str) -> list[ConfigIssue]:
    """Turn pydantic's errors into ConfigIssues that name the field and what was expected."""
    found: list[ConfigIssue] = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        field_name = f"{prefix}.{loc}" if loc else prefix
        if err["type"] == "extra_forbidden":
            message = "unknown parameter"
        elif err["type"] == "missing":
            message = "required parameter is missing"
        else:
            message = f"{err['msg']} (got {err.get('input')!r})"
        found.append(ConfigIssue(file, field_name, message))
    return found


class Tracer:
    """Prints every hook call, its implementations and their results (``--trace-hooks``)."""

    def __init__(self, write: Callable[[str], Any] | None = None) -> None:
        self.write = write or (lambda line: print(line, file=sys.stderr))

    def call(self, hook: str, plugin: str, kwargs: dict[str, Any], result: Any) -> None:
        shown = result
        if isinstance(result, list) and result and isinstance(result[0], ComponentSpec):
            shown = [f"{s.kind}:{s.name}" for s in result]
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        self.write(f"[mlstat hook] {hook}({args}) <- {plugin}: {shown!r}")


class Registry:
    """The plugin manager plus an index of every component by kind and full name."""

    def __init__(self, tracer: Tracer | None = None) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginRecord] = {}
        self.components: dict[str, dict[str, RegisteredComponent]] = {k: {} for k in KINDS}
        self.conflicts: dict[str, str] = {}
        self.tasks: dict[str, TaskType] = {t.name: t for t in BUILTIN_TASKS}
        self.tracer = tracer

    # -- registration ------------------------------------------------------------------

    def register(self, module: Any, name: str, record: PluginRecord) -> None:
        """Register one plugin module and index what its hooks declare."""
        self.pm.register(module, name=name)
        self.plugins[name] = record
        self._collect_tasks(name, record)
        for kind, hook_name in hookspecs.COMPONENT_HOOKS.items():
            for spec in self._call_plugin_hook(name, hook_name, record):
                self._add(kind, name, record, spec)

    def _plugin_impls(self, hook_name: str, plugin: str) -> list[Any]:
        hook = getattr(self.pm.hook, hook_name)
        return [impl for impl in hook.get_hookimpls() if impl.plugin_name == plugin]

    def _call_plugin_hook(self, plugin: str, hook_name: str, record: PluginRecord) -> list[Any]:
        results: list[Any] = []
        for impl in self._plugin_impls(hook_name, plugin):
            try:
                value = impl.function()
            except Exception as exc:  # a broken plugin never breaks the host
                record.problems.append(
                    f"hook {hook_name} raised {type(exc).__name__}: {exc}. "
                    f"Fix the hook in {record.module} (distribution {record.distribution})."
                )
                continue
            if self.tracer:
                self.tracer.call(hook_name, plugin, {}, value)
            if value is None:
                continue
            if not isinstance(value, Iterable):
                record.problems.append(f"hook {hook_name} must return a list, got {value!r}")
                continue
            results.extend(value)
        return results

    def _collect_tasks(self, plugin: str, record: PluginRecord) -> None:
        for task in self._call_plugin_hook(plugin, "mlstat_tasks", record):
            if not isinstance(task, TaskType):
                record.problems.append(f"mlstat_tasks returned {task!r}, not a TaskType")
                continue
            self.tasks.setdefault(task.name, task)

    def _add(self, kind: str, plugin: str, record: PluginRecord, spec: Any) -> None:
        if not isinstance(spec, ComponentSpec):
            record.problems.append(f"{kind} hook returned {spec!r}, not a ComponentSpec")
            return
        problems = spec.problems()
        if spec.kind != kind:
            problems.append(f"declared by the {kind} hook but has kind {spec.kind!r}")
        if problems:
            record.problems.append(
                f"component {spec.name!r} skipped: " + "; ".join(problems)
                + f". Fix its ComponentSpec in {record.module}."
            )
            return
        entry = RegisteredComponent(plugin, record.distribution, spec)
        existing = self.components[kind].get(entry.full_name)
        if existing is not None:
            self.conflicts[entry.full_name] = (
                f"{kind} {entry.full_name} is declared twice, by distributions "
                f"{existing.distribution} and {entry.distribution}; uninstall one of them or "
                "rename its entry point"
            )
            return
        self.components[kind][entry.full_name] = entry
        record.components.append(f"{kind}:{spec.name}")

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
        reason = self.plugin_failure(name)
        if reason:
            message += f"; {reason}"
        suggestion = self.suggest(kind, name)
        if suggestion:
            message += f" (did you mean '{suggestion}'?)"
        else:
            message += f"; see `mlstat components --kind {kind}`"
        return message

    def plugin_failure(self, component: str) -> str | None:
        """Why the plugin named by a component's prefix is not available, if it is not."""
        record = self.plugins.get(component.split(".", 1)[0])
        if record is not None and record.status != "loaded":
            return f"its plugin {record.name!r} is {record.status}: {record.error}"
        return None

    def suggest(self, kind: str, name: str) -> str | None:
        names = list(self.components.get(kind, {}))
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

    def task(self, name: str) -> TaskType:
        if name not in self.tasks:
            close = difflib.get_close_matches(name, list(self.tasks), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(
                f"unknown task {name!r}{hint}; known tasks: {', '.join(sorted(self.tasks))}"
            )
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
            try:
                value = impl.function(**args)
            except Exception as exc:
                warnings.append(
                    f"plugin {impl.plugin_name}: {hook_name} raised {type(exc).__name__}: {exc}"
                )
                continue
            if self.tracer:
                self.tracer.call(hook_name, impl.plugin_name, args, value)
        return warnings


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
    seen: dict[str, PluginRecord] = {CORE_PLUGIN: registry.plugins[CORE_PLUGIN]}
    for ep in sorted(points, key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        record = PluginRecord(
            name=ep.name,
            module=ep.value,
            distribution=dist.metadata["Name"] if dist else None,
            version=dist.version if dist else None,
            requires_core=core_requirement(dist),
        )
        if ep.name in seen:
            other = seen[ep.name]
            record.status = "failed"
            record.error = (
                f"plugin name {ep.name!r} is claimed by distributions {other.distribution} and "
                f"{record.distribution}; uninstall one of them"
            )
            registry.plugins[f"{ep.name} ({record.distribution})"] = record
            continue
        seen[ep.name] = record
        if ep.name in disabled or (allowed and ep.name not in allowed):
            record.status = "disabled"
            record.error = f"disabled by {DISABLE_ENV if ep.name in disabled else ALLOW_ENV}"
            registry.plugins[ep.name] = record
            continue
        if not _is_compatible(record.requires_core):
            record.status = "incompatible"
            record.error = (
                f"needs mlstat-core {record.requires_core}, installed is {_core_version()}; "
                f"upgrade one of them"
            )
            registry.plugins[ep.name] = record
            continue
        try:
            module = ep.load()
        except Exception as exc:
            record.status = "failed"
            record.error = f"import failed: {type(exc).__name__}: {exc}"
            registry.plugins[ep.name] = record
            continue
        registry.register(module, ep.name, record)
    if strict:
        bad = [r for r in registry.plugins.values() if r.status == "failed" or r.problems]
        if bad or registry.conflicts:
            lines = [f"{r.name} ({r.distribution}): {r.error or '; '.join(r.problems)}"
                     for r in bad] + list(registry.conflicts.values())
            raise PluginError("plugins failed to load (strict mode): " + " | ".join(lines))
    return registry


_CACHE: dict[bool, Registry] = {}


def get_registry(strict: bool = False, refresh: bool = False) -> Registry:
    """The process-wide registry (discovered once; ``refresh=True`` discovers again)."""
    if refresh or strict not in _CACHE:
        _CACHE[strict] = discover(strict=strict)
    return _CACHE[strict]
