"""Pipeline files: pydantic models of the TOML format and two-pass validation.

Pass one checks the file's shape (sections, types). Pass two resolves each ``plugin.component``
name in the registry and validates that component's own params. Every problem found is
collected, so one ``mlstat validate`` lists them all, each with file, field, what was expected
and the closest registered name.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import json
import os
import re
import tomllib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlstat_core.components import Params
from mlstat_core.errors import ConfigError, ConfigIssue, MlstatError, is_pandas, value_kind
from mlstat_core.formats import DEFAULT_CHUNK_SIZE
from mlstat_core.inputs import home_path
from mlstat_core.registry import RegisteredComponent, Registry, boolean_issues, get_registry
from mlstat_core.tasks import TaskType

DEFAULT_SPLIT = "core.holdout"
_LIST_SECTIONS = ("preprocess", "indicators")
"""Sections written as arrays of tables, ``[[indicators]]``."""


class PipelineSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="name of the pipeline; prefixes each run folder")
    task: str = Field(description="task type, e.g. tabular_classification, text_classification")
    seed: int = Field(0, description="seed of every random step (split, model, bootstrap)")
    description: str = Field("", description="what the pipeline is for")


class ComponentRef(BaseModel):
    """A ``plugin.component`` name plus that component's params, inline in the same table."""

    model_config = ConfigDict(extra="allow")
    component: str = Field(description="registered name, 'plugin.component'")

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class OutputSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dir: str = Field("runs", description="folder that receives run folders (relative to the file)")
    predictions: bool = Field(True, description="write predictions.parquet")


class PredictSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chunk_size: int = Field(DEFAULT_CHUNK_SIZE, ge=1, description="records scored per chunk")
    engine: str = Field("local", description="execution engine of the predict step: "
                                             "'local' or an engine plugin such as 'spark'")
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="the engine's params (e.g. master for spark)")


class PipelineFile(BaseModel):
    """The shape of a pipeline file (first validation pass)."""

    model_config = ConfigDict(extra="forbid")
    pipeline: PipelineSection
    loader: ComponentRef
    split: ComponentRef = Field(default_factory=lambda: ComponentRef(component=DEFAULT_SPLIT))
    preprocess: list[ComponentRef] = Field(
        default_factory=list, description="transforms applied before the model, in order")
    model: ComponentRef
    indicators: list[ComponentRef | str] | None = Field(
        None, description="indicators to compute; by default every default one serving the task")
    quality: dict[str, Any] = Field(
        default_factory=dict,
        description="run-wide quality settings of the core (fixed keys): targets, "
                    "target_accuracy, manual_seconds_per_record, cost_per_hour, ...; an "
                    "indicator's own settings go in its [[indicators]] table")
    output: OutputSection = Field(default_factory=OutputSection)
    predict: PredictSection = Field(default_factory=PredictSection)


@dataclass
class ResolvedComponent:
    """A component from the registry with its validated params."""

    section: str
    entry: RegisteredComponent
    params: BaseModel

    @property
    def name(self) -> str:
        return self.entry.full_name

    def build(self, **kwargs: Any) -> Any:
        return self.entry.build(self.params, **kwargs)

    def as_table(self) -> dict[str, Any]:
        return {"component": self.name, **self.params.model_dump(mode="json", exclude_none=True)}


@dataclass
class PipelineConfig:
    """A validated pipeline: its file, the task and every component resolved."""

    file: PipelineFile
    task: TaskType
    loader: ResolvedComponent
    split: ResolvedComponent
    model: ResolvedComponent
    indicators: list[ResolvedComponent]
    preprocess: list[ResolvedComponent] = field(default_factory=list)
    source: str = "<dict>"
    base_dir: Path = field(default_factory=Path.cwd)

    @property
    def name(self) -> str:
        return self.file.pipeline.name

    @property
    def seed(self) -> int:
        return self.file.pipeline.seed

    def resolved(self) -> dict[str, Any]:
        """The whole pipeline with every default filled in: what config.toml records."""
        data: dict[str, Any] = {
            "pipeline": self.file.pipeline.model_dump(mode="json"),
            "loader": self.loader.as_table(),
            "split": self.split.as_table(),
            "preprocess": [p.as_table() for p in self.preprocess],
            "model": self.model.as_table(),
            "indicators": [i.as_table() for i in self.indicators],
            "quality": self.file.quality,
            "output": self.file.output.model_dump(mode="json"),
            "predict": self.file.predict.model_dump(mode="json"),
        }
        return data

    def to_toml(self) -> str:
        import tomli_w

        return tomli_w.dumps(_drop_none(self.resolved()))

    def config_hash(self) -> str:
        canonical = json.dumps(self.resolved(), sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def component_names(self) -> list[str]:
        return [c.name for c in (self.loader, self.split, *self.preprocess, self.model,
                                 *self.indicators)]


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


# --- reading ---------------------------------------------------------------------------------


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        where = "" if path.is_absolute() else \
            f" (a relative path is taken from the current folder, {Path.cwd()})"
        raise ConfigError(f"pipeline file {path} does not exist{where}")
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; give the path of a pipeline .toml file")
    try:
        text = path.read_text(encoding="utf-8-sig")  # Windows editors may start with a BOM
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; save the pipeline file as UTF-8") from None
    too_deep = ConfigError(f"{path} nests tables or lists more than {MAX_NESTING} levels deep; "
                           "a pipeline file needs a few: check the file is the pipeline meant")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}{_toml_hint(str(exc), text)}") \
            from None
    except RecursionError:  # the parser recurses once a level
        raise too_deep from None
    if _nesting(data) > MAX_NESTING:  # every later step walks it recursively
        raise too_deep
    return data


MAX_NESTING = 32
"""Most levels of tables and lists a pipeline file may nest (its deepest settings need
about five)."""


def _nesting(value: Any) -> int:
    """How many levels of dicts and lists ``value`` nests (without recursing)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                return deepest
            stack.extend((v, depth) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _toml_hint(message: str, text: str) -> str:
    """The line a TOML error points at and, for the usual hand-editing slips (text without
    quotes, a Windows path's backslashes, a key or table given twice), what to write."""
    found = re.search(r"at line (\d+)", message)
    number = int(found.group(1)) if found else 0
    lines = text.splitlines()
    shown = f": {lines[number - 1].strip()}" if 0 < number <= len(lines) else ""
    listed = next((name for name in _LIST_SECTIONS if f"('{name}',)" in message), None)
    if listed:
        fix = f"write [[{listed}]] (double brackets) above each entry of the list"
    elif "twice" in message:
        fix = "each table is written once: merge the two into one"
    elif "overwrite a value" in message:
        fix = "a key is given twice in one table (or is both a key and a table): keep one"
    elif "hex value" in message or "escape" in message.lower() or "\\" in shown:
        fix = ("a backslash starts an escape in a double-quoted string: write a path with "
               "forward slashes (C:/data/file.csv) or in single quotes ('C:\\data\\file.csv')")
    elif "Illegal character '\\n'" in message:
        fix = "a quoted string is not closed on its line"
    elif "Invalid value" in message or "Illegal character" in message:
        fix = "text is written in quotes (name = \"x\"), lists in brackets ([\"a\", \"b\"])"
    else:
        fix = ""
    return f"\n  line {number}{shown}" + (f"\n  {fix}" if fix else "") if shown else ""


def override_name(item: str, cli: bool = False) -> str:
    """How a message names one override: ``--set 'k=v'`` on the command line (``cli``), an
    entry of the ``overrides`` argument in Python."""
    return f"--set {item!r}" if cli else f"overrides entry {item!r}"


def given_with(cli: bool = False) -> str:
    """Where an override came from, for messages: ``--set`` or ``overrides``."""
    return "--set" if cli else "overrides"


def override_list(overrides: Any, cli: bool = False) -> list[str]:
    """The overrides as a list of ``section.key=value`` strings: a single string is one
    override (not a sequence of characters); anything else than strings is a ConfigError."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        return [overrides]
    fix = "give a list of 'section.key=value' strings (e.g. ['model.C=0.5'])"
    if isinstance(overrides, dict) or not isinstance(overrides, list | tuple):
        raise ConfigError(f"{given_with(cli)} is a {type(overrides).__name__}; {fix}")
    for item in overrides:
        if not isinstance(item, str):
            raise ConfigError(f"{given_with(cli)} holds {item!r}, a {type(item).__name__}; "
                              f"{fix}")
    return list(overrides)


def parse_override(item: str, cli: bool = False) -> tuple[list[str], Any]:
    """``section.key=value`` -> (["section", "key"], value); the value is read as TOML
    (numbers, booleans, lists, quoted strings) and as a plain string otherwise."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key or "." not in key:
        raise ConfigError(f"{override_name(item, cli)} must look like section.key=value"
                          + (_section_hint(key, raw) if sep else ""))
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.split("."), value


def _section_hint(key: str, raw: str) -> str:
    """For a key given without its section (``seed=3``), the override that sets it where a
    section of fixed keys holds it (``pipeline.seed=3``)."""
    for section, info in PipelineFile.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel) and kind is not ComponentRef \
                and key in kind.model_fields:
            return f" (did you mean '{section}.{key}={raw.strip()}'?)"
    return ""


def default_table(section: str) -> dict[str, Any]:
    """The table a pipeline gets for an optional section it leaves out: ``{"component":
    "core.holdout"}`` for ``split`` (its default component), empty for the others."""
    info = PipelineFile.model_fields.get(section)
    made = info.default_factory() if info is not None and info.default_factory else None
    if isinstance(made, ComponentRef):
        return {"component": made.component, **made.params()}
    return {}


def apply_overrides(data: dict[str, Any], overrides: list[str], source: str,
                    cli: bool = False) -> list[str]:
    """Apply overrides (``--set`` with ``cli``) in place; return the dotted keys that were
    set. A section the pipeline leaves out is made, with its default component if it has
    one (``split.test_size=0.3`` alone uses core.holdout)."""
    keys: list[str] = []
    for item in overrides:
        path, value = parse_override(item, cli)
        node: Any = data
        for i, part in enumerate(path[:-1]):
            if isinstance(node, dict) and part not in node \
                    and (i > 0 or part in PipelineFile.model_fields):
                # a table the file leaves out; validation checks its keys
                node[part] = default_table(part) if i == 0 else {}
            if isinstance(node, list) or (i == 0 and part in _LIST_SECTIONS):
                where = ".".join(path[:i]) or part
                raise ConfigError(f"{override_name(item, cli)}: [[{where}]] is a list of "
                                  f"tables, which {given_with(cli)} cannot reach into; "
                                  "change that "
                                  f"entry's value in {source} itself")
            if not isinstance(node, dict) or part not in node:
                where = ".".join(path[: i + 1])
                close = difflib.get_close_matches(part, list(node) if isinstance(node, dict)
                                                  else [], n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(f"{override_name(item, cli)}: {source} has no section "
                                  f"[{where}]{hint}")
            node = node[part]
        if not isinstance(node, dict):
            raise ConfigError(f"{override_name(item, cli)}: {'.'.join(path[:-1])} is not a "
                              "table")
        node[path[-1]] = value
        keys.append(".".join(path))
    return keys


# --- validation ------------------------------------------------------------------------------

_KIND_OF_SECTION = {"loader": "loader", "split": "splitter", "model": "model"}


def _resolve(
    registry: Registry, kind: str, section: str, ref: ComponentRef, task: TaskType | None,
    source: str, issues: list[ConfigIssue], refused: list[ResolvedComponent] | None = None,
) -> ResolvedComponent | None:
    """The component of ``section``, or None with its issues added to ``issues``; one whose
    params' check fails is added to ``refused`` too, so that its input files are checked
    all the same (every issue at once)."""
    try:
        entry = registry.get(kind, ref.component)
    except MlstatError as exc:
        if ref.component in registry.conflicts:  # the name is right; the installation is not
            issues.append(ConfigIssue(source, f"{section}.component", str(exc)))
            return None
        reason = registry.plugin_failure(ref.component, kind)
        earlier = next((i for i in issues if reason and reason in i.message), None)
        if earlier is not None:  # one unavailable plugin is one problem, said once
            earlier.message += f"; also needed by [{section}] ({ref.component!r})"
            return None
        message = f"unknown {kind} {ref.component!r}" + (f"; {reason}" if reason else "")
        issues.append(ConfigIssue(source, f"{section}.component", message,
                                  registry.suggest(kind, ref.component)))
        return None
    if task is not None and not entry.spec.serves(task.name):
        issues.append(ConfigIssue(
            source, f"{section}.component",
            f"{entry.full_name} does not serve task {task.name!r}; it serves "
            f"{', '.join(entry.spec.tasks)}"))
        return None
    wrong_booleans = boolean_issues(entry.spec.params, ref.params(), section, source)
    if wrong_booleans:
        issues.extend(wrong_booleans)
        return None
    try:
        params = entry.spec.params.model_validate(ref.params())
    except ValidationError as exc:
        from mlstat_core.registry import blame_defaults, explain_unknown, issues_from_validation

        found = issues_from_validation(exc, section, source)
        blame_defaults(found, exc, ref.params(), entry)
        issues.extend(explain_unknown(found, entry.spec.params, entry.full_name, section))
        return None
    checked = _params_check(params, registry, task, entry, section, source)
    if checked:
        issues.extend(checked)
        if refused is not None:
            refused.append(ResolvedComponent(section, entry, params))
        return None
    return ResolvedComponent(section, entry, params)


def _plugin_bug(source: str, section: str, entry: RegisteredComponent, params: BaseModel,
                method: str, problem: str, exc: Exception, named: bool = True) -> ConfigIssue:
    """One issue for a plugin's params method that failed (``problem``, then the exception,
    with its type where ``named``): a bug of the plugin, to report to its authors."""
    from mlstat_core.registry import _short

    detail = (f"{type(exc).__name__}: " if named else "") + _short(str(exc))
    return ConfigIssue(source, f"{section}.component", (
        f"{entry.full_name}: {problem}: {detail}. A bug of plugin {entry.plugin!r} "
        f"(distribution {entry.distribution}) in {type(params).__name__}.{method}: report it "
        "to its authors"))


def _params_check(params: BaseModel, registry: Registry, task: TaskType | None,
                  entry: RegisteredComponent, section: str, source: str) -> list[ConfigIssue]:
    """The issues of ``Params.check``; a check that raises or returns something else than a
    list of ConfigIssue is one issue naming the component (a plugin bug, not the user's)."""
    if not isinstance(params, Params):
        return []
    try:
        checked = params.check(registry, task)
        bad = None if isinstance(checked, list | tuple) else checked
        if bad is None:
            bad = next((i for i in checked if not isinstance(i, ConfigIssue)), None)
        if bad is not None:
            raise TypeError(f"it returned {bad!r} where a list of ConfigIssue was expected")
    except MlstatError as exc:  # the registry's own words (an unknown name, say): the user's
        return [ConfigIssue(source, f"{section}.component", f"{entry.full_name}: {exc}")]
    except Exception as exc:
        return [_plugin_bug(source, section, entry, params, "check",
                            "its params check failed", exc)]
    for issue in checked:
        issue.file, issue.field = source, f"{section}.{issue.field}"
    return list(checked)


def input_path_issues(components: list[tuple[str, RegisteredComponent, BaseModel]],
                      base_dir: Path | None, source: str,
                      how: Callable[[str, str], str | None] | None = None) -> list[ConfigIssue]:
    """The input files and folders of each component's params (``Params.input_paths``,
    the fields marked :class:`~mlstat_core.inputs.InputPath`) that are missing, of the wrong
    kind or empty, relative paths taken from ``base_dir`` (the pipeline file's folder; the
    working folder for a dict); then, for a component whose paths are fine, what
    ``Params.input_issues`` finds in its files (core.table: the columns its header lacks).
    ``how`` is passed to ``input_issues`` (how the user sets a reading option). A plugin's
    ``input_paths`` or ``input_issues`` that fails is one issue naming the component."""
    from mlstat_core.inputs import InputPathsError, input_issues

    base = Path(base_dir) if base_dir is not None else Path.cwd()
    base_text = "the working folder (the pipeline is a dict)" if source == "<dict>" \
        else "the pipeline file's folder"
    found: list[ConfigIssue] = []
    for section, entry, params in components:
        try:
            paths = input_issues(params, base, source, section, base_text)
            found += paths
            if not paths:
                found += _content_issues(section, entry, params, base, source, how)
        except OSError as exc:  # a folder on the way that cannot be searched, say
            found.append(ConfigIssue(source, f"{section}.component", (
                f"the input paths of {entry.full_name} cannot be checked: "
                f"{exc.strerror or exc} ({exc.filename}); check the folder's permissions")))
        except InputPathsError as exc:  # a plugin's own input_paths
            found.append(_plugin_bug(source, section, entry, params, "input_paths",
                                     "its input paths cannot be listed", exc, named=False))
    return found


def _content_issues(section: str, entry: RegisteredComponent, params: BaseModel, base: Path,
                    source: str, how: Callable[[str, str], str | None] | None
                    ) -> list[ConfigIssue]:
    """What ``params.input_issues`` finds in the component's input files, each issue placed
    in ``source`` and the component's section and marked ``in_file``; a method that fails
    is one issue naming the plugin."""
    method = getattr(params, "input_issues", None)
    if not callable(method):
        return []
    try:
        checked = list(method(base, how))
    except OSError:
        raise
    except Exception as exc:
        return [_plugin_bug(source, section, entry, params, "input_issues",
                            "its input files cannot be checked", exc)]
    for issue in checked:
        issue.file, issue.field = source, f"{section}.{issue.field}"
        issue.in_file = True
    return checked


def _factory_issues(components: list[tuple[str, RegisteredComponent]],
                    source: str) -> list[ConfigIssue]:
    """Import the factory of every component the pipeline uses, so that a module that cannot
    be imported (a missing dependency, a SyntaxError) is reported now, not late in a run.
    One issue per module that fails."""
    from mlstat_core.errors import PluginError

    found: list[ConfigIssue] = []
    failed: set[str] = set()
    for section, entry in components:
        module = entry.spec.factory.partition(":")[0]
        if module in failed:
            continue
        try:
            entry.load_factory()
        except PluginError as exc:
            failed.add(module)
            found.append(ConfigIssue(source, section, str(exc)))
    return found


def _indicator_refs(file: PipelineFile) -> list[tuple[str, ComponentRef]] | None:
    if file.indicators is None:
        return None
    refs = []
    for i, item in enumerate(file.indicators):
        ref = ComponentRef(component=item) if isinstance(item, str) else item
        refs.append((f"indicators[{i}]", ref))
    return refs


def validate(
    data: dict[str, Any], source: str = "<dict>", base_dir: Path | None = None,
    registry: Registry | None = None,
    how: Callable[[str, str], str | None] | None = None,
) -> PipelineConfig:
    """Validate a parsed pipeline file in two passes; raise one ConfigError with every issue.
    ``how(option, example)`` says how the user sets a reading option of an input file, in
    the advice of the input files' checks (``Params.input_issues``): by default the
    pipeline file's setting."""
    registry = registry or get_registry()
    shape_issues = control_character_issues(data, source) + _section_boolean_issues(data, source)
    try:
        file = PipelineFile.model_validate(data)
    except ValidationError as exc:
        from mlstat_core.registry import issues_from_validation

        issues = issues_from_validation(exc, "", source)
        for issue in issues:
            issue.field = issue.field.lstrip(".")
            _explain_shape_issue(issue, data)
        raise ConfigError(f"{source} is not a valid pipeline file",
                          shape_issues + issues) from None
    if shape_issues:
        raise ConfigError(f"{source} is not a valid pipeline file", shape_issues)

    issues: list[ConfigIssue] = []
    task: TaskType | None = None
    try:
        task = registry.task(file.pipeline.task)
    except ConfigError as exc:
        close = difflib.get_close_matches(file.pipeline.task, list(registry.tasks), n=1)
        issues.append(ConfigIssue(source, "pipeline.task", str(exc).split(" (did")[0].split(";")[0]
                                  + f"; known: {', '.join(sorted(registry.tasks))}",
                                  close[0] if close else None))
    refused: list[ResolvedComponent] = []  # their params' check failed: inputs checked too
    resolved = {
        section: _resolve(registry, kind, section, getattr(file, section), task, source, issues,
                          refused)
        for section, kind in _KIND_OF_SECTION.items()
    }
    preprocess = [
        found for i, ref in enumerate(file.preprocess)
        if (found := _resolve(registry, "transform", f"preprocess[{i}]", ref, task, source,
                              issues, refused))]
    indicators: list[ResolvedComponent] = []
    refs = _indicator_refs(file)
    if refs is None and task is not None:
        for entry in registry.find("indicator", task.name):
            if entry.spec.default:
                try:
                    params = entry.spec.params()
                except ValidationError as exc:
                    from mlstat_core.registry import _first_error

                    issues.append(ConfigIssue(source, "indicators", (
                        f"default indicator {entry.full_name} cannot be built with its params "
                        f"defaults ({_first_error(exc)}): a defect of plugin {entry.plugin!r} "
                        f"(distribution {entry.distribution}); list the indicators you want "
                        "in [[indicators]] tables")))
                    continue
                indicators.append(ResolvedComponent("indicators", entry, params))
    listed_at: dict[str, int] = {}
    for number, (where, ref) in enumerate(refs or [], start=1):
        found = _resolve(registry, "indicator", where, ref, task, source, issues, refused)
        if found and found.name in listed_at:  # its figures would have the same names
            issues.append(ConfigIssue(source, f"{where}.component", (
                f"{found.name} is listed twice in [[indicators]] (tables {listed_at[found.name]} "
                f"and {number}), and its figures would have the same names; list it once (to "
                "see a figure under other settings, run the pipeline again with them and "
                "compare the runs)")))
        elif found:
            listed_at[found.name] = number
            indicators.append(found)
    issues.extend(quality_issues(file.quality, source))
    _point_to_owner(issues, [*resolved.values(), *preprocess, *indicators])
    engine: RegisteredComponent | None = None
    engine_params: BaseModel | None = None
    try:
        engine = registry.engine(file.predict.engine)
        wrong_booleans = boolean_issues(engine.spec.params, file.predict.options,
                                        "predict.options", source)
        issues.extend(wrong_booleans)
        if not wrong_booleans:
            engine_params = engine.spec.params.model_validate(file.predict.options)
    except ConfigError as exc:
        issues.append(ConfigIssue(source, "predict.engine", str(exc)))
    except ValidationError as exc:
        from mlstat_core.registry import blame_defaults, issues_from_validation

        found = issues_from_validation(exc, "predict.options", source)
        blame_defaults(found, exc, file.predict.options, engine)
        issues.extend(found)
    checked = [(c.section, c.entry, c.params)
               for c in (*resolved.values(), *preprocess, *indicators, *refused)
               if c is not None]
    if engine is not None and engine_params is not None:
        checked.append(("predict.options", engine, engine_params))
    issues.extend(input_path_issues(checked, base_dir, source, how))
    # defaults the file did not name: one that cannot be imported fails alone when assessed
    named = indicators if refs is not None else []
    used = [(f"{c.section}.component" if c.section != "indicators" else "indicators", c.entry)
            for c in (*resolved.values(), *preprocess, *named) if c is not None]
    if engine is not None:
        used.append(("predict.engine", engine))
    issues.extend(_factory_issues(used, source))
    if issues or task is None:
        raise ConfigError(f"{source} has {len(issues)} problem(s)", issues)
    warn_of_unused_cost_settings(file.quality, indicators)
    return PipelineConfig(
        file=file, task=task, loader=resolved["loader"], split=resolved["split"],
        model=resolved["model"], indicators=indicators, preprocess=preprocess, source=source,
        base_dir=base_dir or Path.cwd())


def _explain_shape_issue(issue: ConfigIssue, data: dict[str, Any]) -> None:
    """Reword one first-pass issue in the words of a pipeline file: a missing or unknown
    section, an unknown key of a fixed section (with what it takes), ``[indicators]``
    written where ``[[indicators]]`` is meant, or the other way round."""
    from mlstat_core.registry import explain_unknown

    section = issue.field.split(".")[0].split("[")[0]
    if issue.message == "required parameter is missing":
        issue.message = "required " + ("section" if "." not in issue.field else "key") \
            + " is missing"
    elif issue.message == "unknown parameter" and "." not in issue.field:
        close = difflib.get_close_matches(issue.field, list(PipelineFile.model_fields), 1)
        issue.message = f"unknown section; sections are {', '.join(PipelineFile.model_fields)}"
        issue.suggestion = close[0] if close else None
    elif issue.message == "unknown parameter":
        model = getattr(PipelineFile.model_fields.get(section), "annotation", None)
        if isinstance(model, type) and issubclass(model, BaseModel):
            explain_unknown([issue], model, f"[{section}]", section)
    elif issue.field == section and section in _LIST_SECTIONS \
            and isinstance(data.get(section), dict):
        issue.message = (f"is one table [{section}], but the pipeline takes a list of them: "
                         f"write [[{section}]] (double brackets) above each entry")
    elif issue.field.startswith(section) and section not in _LIST_SECTIONS \
            and isinstance(data.get(section), list):
        issue.message = (f"is a list of tables [[{section}]], but the pipeline takes one: "
                         f"write [{section}] (single brackets)")
    elif issue.field == section and isinstance(data.get(section), str) \
            and (section in _LIST_SECTIONS
                 or getattr(PipelineFile.model_fields.get(section), "annotation", None)
                 is ComponentRef):
        issue.message = _component_text_message(section, data[section], issue.file == "<dict>")


def _component_text_message(section: str, name: str, in_dict: bool) -> str:
    """What to write instead of a component's bare name where a table (``[model]``) or a list
    (``indicators``) of them is expected, in the words of a TOML file or of a dict."""
    if section in _LIST_SECTIONS:
        example = f'["{name}"]' if in_dict else f'{section} = ["{name}"]'
        return f"is the text {name!r}; {section} is a list: write {example}"
    example = f'{{"component": "{name}"}}' if in_dict else \
        f'[{section}] with component = "{name}"'
    return (f"is the text {name!r}; {section} is a table that names its component and "
            f"its params: write {example}")


def _section_boolean_issues(data: dict[str, Any], source: str) -> list[ConfigIssue]:
    """:func:`boolean_issues` of the core's fixed sections ([pipeline], [output], [predict])."""
    return [issue for name, model in (("pipeline", PipelineSection), ("output", OutputSection),
                                      ("predict", PredictSection))
            for issue in boolean_issues(model, data.get(name), name, source)]


_CONTROL_NAMES = {"\b": "backspace", "\f": "form feed", "\t": "tab", "\n": "new line",
                  "\r": "carriage return", "\x00": "NUL"}


def control_character_issues(data: Any, source: str, where: str = "") -> list[ConfigIssue]:
    """Issues for strings holding control characters that a backslash of a Windows path made:
    in a double-quoted TOML string ``"data\\budget.csv"`` is ``data`` + backspace +
    ``udget.csv``, a path that silently names no file. Tabs and new lines count only in a
    string without spaces (a path or a name, not a description); a string of one character
    is a separator (``sep = "\\t"``), never a path."""
    found: list[ConfigIssue] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += control_character_issues(value, source, f"{where}.{key}".lstrip("."))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += control_character_issues(value, source, f"{where}[{i}]")
    elif isinstance(data, str) and len(data) > 1:  # one character is a separator ("\t")
        bad = [c for c in data if (ord(c) < 32 and c not in "\t\n\r") or ord(c) == 127]
        if not bad and " " not in data:
            bad = [c for c in data if c in "\t\n\r"]
        if bad:
            name = _CONTROL_NAMES.get(bad[0], f"U+{ord(bad[0]):04X}")
            found.append(ConfigIssue(source, where, (
                f"holds a {name} character ({data!r}): in a double-quoted TOML string a "
                "backslash starts an escape (\\b, \\t, \\n ...), as in a Windows path; "
                "write the path with forward slashes (data/budget.csv), which work on "
                "Windows too")))
    return found


def _point_to_owner(issues: list[ConfigIssue],
                    components: list[ResolvedComponent | None]) -> None:
    """Add to each 'unknown parameter' issue without a close name the other section whose
    component (or [quality]) takes that key: ``test_size`` under [model] belongs to [split]."""
    from mlstat_core.quality.params import QualitySettings

    owners = [("[quality]", "quality", QualitySettings.model_fields)]
    owners += [(f"[{c.section}] ({c.entry.full_name})" if c.section != "indicators"
                else f'an [[indicators]] table with component = "{c.entry.full_name}"',
                c.section, c.entry.spec.params.model_fields)
               for c in components if c is not None]
    for issue in issues:
        if not issue.message.startswith("unknown parameter") or issue.suggestion:
            continue
        section, _, key = issue.field.rpartition(".")
        owner = next((name for name, where, fields in owners
                      if key in fields and where != section.split("[")[0]), None)
        if owner is not None:
            issue.message += f"; {key} is a setting of {owner}: move it there"


COST_SETTINGS = ("manual_seconds_per_record", "cost_per_hour", "currency", "records_per_cycle")
"""The ``[quality]`` keys that only :data:`COST_INDICATOR` reads."""
COST_INDICATOR = "core.cost_effectiveness"


def warn_of_unused_cost_settings(quality: dict[str, Any],
                                 indicators: list[ResolvedComponent]) -> None:
    """Warn when ``[quality]`` sets the cost of manual work but the pipeline's indicators
    leave out the one indicator that reads it: the settings would be silently unused."""
    given = [key for key in COST_SETTINGS if quality.get(key) not in (None, "")]
    if given and not any(i.entry.full_name == COST_INDICATOR for i in indicators):
        warnings.warn(f"[quality] sets {', '.join(given)}, which only {COST_INDICATOR} reads, "
                      f"and the pipeline's indicators leave it out: add an [[indicators]] "
                      f"table with component = \"{COST_INDICATOR}\" to see the work and money "
                      "the model saves, or remove those settings", UserWarning, stacklevel=4)


def quality_issues(quality: dict[str, Any], source: str) -> list[ConfigIssue]:
    """Problems of the ``[quality]`` table: unknown keys (with the closest known one) and
    values of the wrong type. Its keys are the core's run-wide settings (QualitySettings);
    an indicator's own settings are params in its ``[[indicators]]`` table."""
    from mlstat_core.quality.params import QualitySettings
    from mlstat_core.registry import explain_unknown, issues_from_validation

    wrong_booleans = boolean_issues(QualitySettings, quality, "quality", source)
    if wrong_booleans:
        return wrong_booleans
    try:
        QualitySettings.model_validate(quality)
    except ValidationError as exc:
        found = explain_unknown(issues_from_validation(exc, "quality", source),
                                QualitySettings, "[quality]", "quality")
        for issue in found:
            if issue.message.startswith("unknown parameter"):
                issue.message += ("; an indicator's own settings go in its [[indicators]] "
                                  "table")
        return found
    return []


def load_config(
    source: str | Path | dict[str, Any] | PipelineConfig,
    overrides: list[str] | str | None = None,
    registry: Registry | None = None,
    cli: bool = False,
    how: Callable[[str, str], str | None] | None = None,
) -> PipelineConfig:
    """Read (a path), apply overrides and validate a pipeline. ``overrides`` is a list of
    ``section.key=value`` strings (a single string is one); messages name them ``--set``
    with ``cli`` (the command line), ``overrides`` otherwise. ``how`` is :func:`validate`'s."""
    overrides = override_list(overrides, cli)
    if isinstance(source, PipelineConfig):
        if overrides:
            data = source.resolved()
            old = _components_of(data)
            set_keys = apply_overrides(data, overrides, source.source, cli)
            _drop_params_of_replaced_components(data, old, set_keys, registry, cli)
            return _validated(data, source.source, source.base_dir, registry, set_keys, cli,
                              how)
        return source
    data, name, base = read_source(source)
    old = _components_of(data)
    set_keys = apply_overrides(data, overrides, name, cli)
    _drop_params_of_replaced_components(data, old, set_keys, registry, cli)
    config = _validated(data, name, base, registry, set_keys, cli, how)
    _check_overrides_exist(config, set_keys, name, cli)
    return config


def _validated(data: dict[str, Any], name: str, base: Path, registry: Registry | None,
               set_keys: list[str], cli: bool,
               how: Callable[[str, str], str | None] | None = None) -> PipelineConfig:
    """:func:`validate`, each issue of an overridden key marked as such."""
    try:
        return validate(data, name, base, registry, how)
    except ConfigError as exc:
        for issue in exc.issues:
            if issue.field in set_keys:
                issue.message += f" (a value given {'with --set' if cli else 'in overrides'})"
        raise


def read_source(source: Any) -> tuple[dict[str, Any], str, Path]:
    """A pipeline's data, its name in messages and the folder its relative paths start
    from: a file path (its folder) or a dict (the working folder)."""
    if isinstance(source, dict):
        return plain_pipeline(source), "<dict>", Path.cwd()
    if isinstance(source, str) and looks_like_toml_text(source):
        first = source.strip().splitlines()[0] if source.strip() else source
        raise ConfigError(
            f"the text given ({first[:40]!r}...) looks like the content of a pipeline file, "
            "not a path: pass tomllib.loads(text) (a dict), or save it to a file and give "
            "its path")
    if not isinstance(source, str | os.PathLike) or not isinstance(os.fspath(source), str):
        raise ConfigError(f"{value_kind(source)} is not a pipeline: give a pipeline file path "
                          f"or a dict{_what_instead(source)}")
    path = home_path(source)
    return read_toml(path), str(path), pipeline_base_dir(path)


def looks_like_toml_text(text: str) -> bool:
    """Whether a string is the text of a pipeline file rather than its path: it spans
    lines or starts with a ``[table]``."""
    return "\n" in text or text.lstrip().startswith("[")


def _what_instead(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " (one pipeline per call)"
    if is_pandas(value):
        return (" whose [loader] names the data file; mlstat reads data through loaders "
                "(save the frame first, e.g. frame.to_parquet('data.parquet'))")
    return ""


# --- dict pipelines: plain values ----------------------------------------------------------

_PLAIN = (str, int, float, bool, datetime.date, datetime.time)
"""Values a TOML file can hold, kept as they are (``datetime`` is a ``date``)."""


def plain_pipeline(source: dict[str, Any]) -> dict[str, Any]:
    """A copy of a dict pipeline holding only what a TOML file could: a ``pathlib.Path``
    becomes its text, a numpy scalar or array a Python number or list, a tuple a list.
    Anything else (a DataFrame, an object) is one ConfigError naming each such field."""
    issues: list[ConfigIssue] = []
    data = _plain(source, "", issues)
    if issues:
        raise ConfigError("<dict> holds values a pipeline cannot", issues)
    return data


def _plain(value: Any, where: str, issues: list[ConfigIssue]) -> Any:
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return _plain(value.tolist(), where, issues)  # a scalar's tolist() is a number
    if value is None or isinstance(value, _PLAIN):
        return value
    if isinstance(value, dict):
        return _plain_table(value, where, issues)
    if isinstance(value, list | tuple):
        return [_plain(v, f"{where}[{i}]", issues) for i, v in enumerate(value)]
    if isinstance(value, PurePath):
        return str(value)
    issues.append(ConfigIssue("<dict>", where or "(the pipeline)", _not_plain(value)))
    return None


def _plain_table(table: dict[Any, Any], where: str, issues: list[ConfigIssue]
                 ) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for key, item in table.items():
        if not isinstance(key, str):
            issues.append(ConfigIssue("<dict>", where or "(the pipeline)", (
                f"key {key!r} is {value_kind(key)}; the keys of a table are names (text)")))
            continue
        plain[key] = _plain(item, f"{where}.{key}" if where else key, issues)
    return plain


def _not_plain(value: Any) -> str:
    if is_pandas(value):
        return (f"{value_kind(value)} is not a pipeline value: give the path of a data file; "
                "mlstat reads data through loaders (save the frame first, e.g. "
                "frame.to_parquet('data.parquet'), and give that path)")
    return (f"{value_kind(value)} is not a pipeline value: give text, a number, a boolean, a "
            "list or a table (dict), as a TOML file holds (a pathlib.Path is taken as its "
            "text)")


def pipeline_base_dir(path: Path) -> Path:
    """The folder a pipeline file's relative paths start from: its own, except for the
    ``config.toml`` of a run folder, whose paths start where the original pipeline file was
    (the manifest's ``base_dir``), so that a run can be repeated from its folder."""
    manifest = path.resolve().parent / "manifest.json"
    if path.name == "config.toml" and manifest.is_file():
        try:
            base_dir = json.loads(manifest.read_text(encoding="utf-8")).get("base_dir")
        except (OSError, ValueError, AttributeError):
            base_dir = None
        if isinstance(base_dir, str) and Path(base_dir).is_dir():
            return Path(base_dir)
    return path.resolve().parent


def _components_of(data: dict[str, Any]) -> dict[str, Any]:
    """Section -> the component a pipeline's data names there (loader, split, model)."""
    return {section: table.get("component") for section in _KIND_OF_SECTION
            if isinstance(table := data.get(section), dict)}


def _drop_params_of_replaced_components(data: dict[str, Any], old: dict[str, Any],
                                        set_keys: list[str], registry: Registry | None,
                                        cli: bool = False) -> None:
    """``--set model.component=core.majority`` runs the same pipeline with another component
    (a baseline): the file's params of the component it replaces (``old``: section ->
    component before the overrides) that the new one does not take are left out, with a
    warning naming them. Params given with ``--set`` stay (and are checked)."""
    for section in _KIND_OF_SECTION:
        table = data.get(section)
        if f"{section}.component" not in set_keys or not isinstance(table, dict) \
                or section not in old or old[section] == table.get("component"):
            continue
        try:
            entry = (registry or get_registry()).get(_KIND_OF_SECTION[section],
                                                     str(table.get("component")))
        except MlstatError:
            continue  # validation names the unknown component
        takes = set(entry.spec.params.model_fields)
        dropped = [key for key in table if key != "component" and key not in takes
                   and f"{section}.{key}" not in set_keys]
        for key in dropped:
            del table[key]
        if dropped:
            warnings.warn(f"[{section}] component replaced by {given_with(cli)} ({old[section]} -> "
                          f"{table['component']}): left out the file's "
                          f"{', '.join(dropped)}, which {table['component']} does not take",
                          stacklevel=3)


def _check_overrides_exist(config: PipelineConfig, keys: list[str], source: str,
                           cli: bool = False) -> None:
    """Overrides may only name keys the pipeline format or the component's params define."""
    for key in keys:
        section, _, rest = key.partition(".")
        known: list[str]
        component = {"loader": config.loader, "split": config.split,
                     "model": config.model}.get(section)
        if component is not None:
            known = ["component", *component.entry.spec.params.model_fields]
        elif section == "quality":
            continue  # its keys (QualitySettings) were checked by quality_issues in validate
        elif section in PipelineFile.model_fields:
            sub = PipelineFile.model_fields[section].annotation
            known = list(getattr(sub, "model_fields", {}))
        else:
            known = []
        top = rest.split(".", 1)[0]
        if top not in known:
            close = difflib.get_close_matches(top, known, n=1)
            hint = f" (did you mean '{section}.{close[0]}'?)" if close else ""
            raise ConfigError(f"{override_name(key, cli)}: there is no key {top!r} in "
                              f"[{section}] of {source}{hint}")


def json_schema() -> dict[str, Any]:
    """JSON Schema of the pipeline-file format (component params are checked in pass two)."""
    schema = PipelineFile.model_json_schema()
    schema["title"] = "mlstat pipeline file"
    schema["description"] = (
        "A TOML pipeline file. Each component table names a registered component by "
        "'plugin.component' and holds that component's params inline; see "
        "`mlstat components` for each component's params.")
    return schema
