"""Input files and folders named in params, checked before a run reads them.

A params field declares that it names an input that must exist by carrying the
:class:`InputPath` marker, most simply through the aliases :data:`InputFile` and
:data:`InputFolder`::

    class SurveyParams(Params):
        path: InputFile = Field(description="the microdata file; relative to the pipeline file")
        metadata: InputFile | None = Field(None, description="variable metadata file")
        scenes: list[InputFolder] = Field(default_factory=list)

``mlstat validate`` (and every run, before anything is read) then reports each such path that
does not exist, is a folder where a file is expected (or the other way round) or is an empty
file, as one :class:`~mlstat_core.errors.ConfigIssue` naming the field, the resolved path and
the fix, with the closest existing name when there is one. ``None`` or ``""`` (an optional
path left out: TOML has no null) is not checked, nor is a URL (``s3a://...``). The marker is
metadata only: params are still built (from a run folder's ``state.json``, say) when their
files are gone.

Relative paths are resolved as the loaders resolve them (:func:`mlstat_core.io.resolve_path`):
``~`` expanded, then taken from the pipeline file's folder (the working folder for a pipeline
given as a dict). This module is light (no pandas): discovery imports it.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from mlstat_core.errors import ConfigIssue

PathKind = Literal["file", "folder", "any"]


@dataclass(frozen=True)
class InputPath:
    """Marks a params field (``Annotated[str, InputPath()]``) as an input file or folder that
    must exist when a pipeline is validated.

    ``kind``: ``"file"``, ``"folder"`` or ``"any"`` (either; a vector data set may be a
    file or a folder). ``within``: the name of another field of the same params that holds
    the folder this path is relative to (instead of the pipeline file's folder); when that
    field is ``None`` (the component's own default location, bundled data say) the path is
    not checked. ``names``: values that are not paths but names the component resolves
    itself (``"bundled:timeline"``), never checked; a value close to one is suggested.
    ``allow_empty``: a 0-byte file is accepted (by default it is refused)."""

    kind: PathKind = "file"
    within: str | None = None
    names: tuple[str, ...] = ()
    allow_empty: bool = False


InputFile = Annotated[str, InputPath("file")]
"""A params field naming an input file that must exist (``InputFile | None`` when optional)."""
InputFolder = Annotated[str, InputPath("folder")]
"""A params field naming an input folder that must exist."""


@dataclass
class InputRef:
    """One input path of a params object: ``field`` (dotted, relative to the component's
    section: ``path``, ``code_lists[1]``, ``index.file``), the ``value`` as written, its
    ``marker`` and, for a path relative to a folder named in another field, that ``folder``
    (as written) and its ``folder_field``. ``note`` is added to a problem's message: what
    the path is, for one the component derives (``"the file of band '30' (band_pattern and
    bands)"``)."""

    field: str
    value: str
    marker: InputPath
    folder: str | None = None
    folder_field: str | None = None
    note: str = ""


def _markers(items: Any) -> tuple[InputPath, ...]:
    return tuple(item for item in items if isinstance(item, InputPath))


def field_marker(info: Any) -> InputPath | None:
    """The :class:`InputPath` a pydantic field carries (on the field, or inside its type:
    ``InputFile | None``, ``list[InputFile]``), or None."""
    found = _markers(getattr(info, "metadata", ()))
    return found[0] if found else _marker_in(getattr(info, "annotation", None))


def _marker_in(annotation: Any) -> InputPath | None:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        found = _markers(args[1:])
        return found[0] if found else _marker_in(args[0])
    for arg in args:  # unions, lists, tuples, dict values
        found = _marker_in(arg)
        if found is not None:
            return found
    return None


def marked_inputs(params: BaseModel, prefix: str = "") -> list[InputRef]:
    """The input paths of ``params``: each value of a field that carries an
    :class:`InputPath` (in lists and tables too), and those of nested params (through their
    :meth:`~mlstat_core.components.Params.input_paths`). ``None`` values are left out, as
    are paths ``within`` a folder field that is ``None``."""
    found: list[InputRef] = []
    for name, info in type(params).model_fields.items():
        value = getattr(params, name, None)
        where = f"{prefix}{name}"
        refs = _walk(value, info.annotation, where, _markers(info.metadata))
        for ref in refs:
            within = ref.marker.within
            if within is not None:
                folder = getattr(params, within, None)
                if not isinstance(folder, str) or not folder.strip():
                    continue  # the component's default location: its own business
                ref.folder, ref.folder_field = folder, f"{prefix}{within}"
            found.append(ref)
    return found


def _walk(value: Any, annotation: Any, where: str, markers: tuple[InputPath, ...]
          ) -> list[InputRef]:
    if value is None:
        return []
    if isinstance(value, BaseModel):
        own = getattr(value, "input_paths", None)
        refs = own() if callable(own) else marked_inputs(value)
        for ref in refs:
            ref.field = f"{where}.{ref.field}"
            if ref.folder_field is not None:
                ref.folder_field = f"{where}.{ref.folder_field}"
        return refs
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _walk(value, args[0], where, markers + _markers(args[1:]))
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and isinstance(value, str) and not value.strip():
            return []  # TOML has no null: "" leaves an optional path out
        found: dict[str, InputRef] = {}
        for arg in args:
            for ref in _walk(value, arg, where, markers):
                found.setdefault(ref.field, ref)
        return list(found.values())
    if isinstance(value, str):
        return [InputRef(where, value, markers[0])] if markers else []
    if isinstance(value, list | tuple):
        found_items: list[InputRef] = []
        for i, item in enumerate(value):
            if origin is tuple and args and args[-1] is not Ellipsis:
                item_type = args[i] if i < len(args) else Any
            else:
                item_type = args[0] if args else Any
            found_items += _walk(item, item_type, f"{where}[{i}]", markers)
        return found_items
    if isinstance(value, dict):
        item_type = args[1] if len(args) == 2 else Any
        return [ref for key, item in value.items()
                for ref in _walk(item, item_type, f"{where}.{key}", markers)]
    return []


def marker_problems(model: type[BaseModel]) -> list[str]:
    """Markers of ``model`` whose ``within`` names no field of it (a plugin defect)."""
    fields = model.model_fields
    return [f"params {model.__name__}: field {name!r} is an InputPath within {marker.within!r}, "
            f"which is not a field of {model.__name__}"
            for name, info in fields.items()
            if (marker := field_marker(info)) is not None and marker.within is not None
            and marker.within not in fields]


# --- the check ---------------------------------------------------------------------------------


def home_path(path: str | os.PathLike[str]) -> Path:
    """``path`` with a leading ``~`` (``~/data``, ``~alice/data``) made the home folder, as a
    shell does; where there is no such home (``~runs``: no user so called, or no home at
    all), the path as written, a name (``Path.expanduser`` would raise RuntimeError)."""
    given = Path(path)
    try:
        return given.expanduser()
    except RuntimeError:
        return given


def resolve_path(path: str | Path, base_dir: Path) -> Path:
    """A path from a pipeline file: ``~`` expanded, relative paths taken from ``base_dir``
    (the pipeline file's folder). The one rule of the loaders (``mlstat_core.io`` exports it)
    and of this check, kept here because this module must stay light."""
    candidate = home_path(path)
    return candidate if candidate.is_absolute() else Path(base_dir) / candidate


def is_url(path: str | Path) -> bool:
    """Whether ``path`` is a URL (``s3a://...``, ``file:///...``) rather than a local path."""
    return "://" in str(path)


class InputPathsError(Exception):
    """A params class's own ``input_paths`` failed: a defect of the plugin that defines it."""


def input_issues(params: BaseModel, base_dir: Path, source: str, section: str,
                 base_text: str = "the pipeline file's folder") -> list[ConfigIssue]:
    """One ConfigIssue per input path of ``params`` (the component of ``section``) that is
    missing, of the wrong kind or empty. ``base_text`` says what ``base_dir`` is, for the
    message."""
    from mlstat_core.errors import ConfigIssue

    try:
        refs = params.input_paths() if callable(getattr(params, "input_paths", None)) \
            else marked_inputs(params)
    except Exception as exc:
        raise InputPathsError(f"{type(exc).__name__}: {exc}") from exc
    issues: list[ConfigIssue] = []
    failed: set[str] = set()
    checked = {ref.field for ref in refs}
    # folders first: a path within a folder that is missing is not named again
    for ref in sorted(refs, key=lambda r: r.folder is not None):
        if ref.value in ref.marker.names or is_url(ref.value):
            continue
        if ref.folder is not None:
            folder = resolve_path(ref.folder, base_dir)
            if ref.folder_field in failed or (ref.folder_field in checked
                                               and not folder.is_dir()):
                continue
            key = (ref.folder_field or "").rsplit(".", 1)[-1]
            start, start_text = folder, f"the folder of `{key}`, {folder}"
        else:
            start, start_text = Path(base_dir), f"{base_text}, {base_dir}"
        problem = path_problem(ref.value, start, ref.marker, start_text)
        if problem is None:
            continue
        what, fix, suggestion = problem
        what += f", {ref.note}" if ref.note else ""
        failed.add(ref.field)
        key = ref.field.rsplit(".", 1)[-1]
        name, _, index = section.partition("[")
        table = f"[[{name}]] table {int(index.rstrip(']')) + 1}" if index else f"[{section}]"
        issues.append(ConfigIssue(source, f"{section}.{ref.field}",
                                  f"{what}; {fix.format(where=f'`{key}` in {table}')}",
                                  suggestion))
    return issues


def path_problem(value: str, start: Path, marker: InputPath, start_text: str
                 ) -> tuple[str, str, str | None] | None:
    """What is wrong with the input ``value`` (relative to ``start``, described as
    ``start_text``): the problem, the fix (a text with ``{where}`` for the setting to
    correct) and a suggested value; None when it is fine."""
    noun = {"file": "file", "folder": "folder", "any": "path"}[marker.kind]
    if value.strip() == "":
        return f"is empty, where the path of a {noun} is expected", "give it in {where}", None
    path = resolve_path(value, start)
    relative = "" if home_path(value).is_absolute() \
        else f" (a relative path starts at {start_text})"
    try:
        exists = path.exists()
    except OSError as exc:  # a name too long, ...
        return f"{noun} {path} cannot be checked: {exc.strerror or exc}", "correct {where}", None
    if not exists:
        if "\\" in value and os.sep == "/":  # a path written on Windows
            if re.match(r"[A-Za-z]:[\\/]", value):  # C:\... : a file of another system
                return (f"{noun} {value} is a Windows path, which names a file of another "
                        "system", "give in {where} the file's path on this machine, with /",
                        None)
            forward = value.replace("\\", "/")
            return (f"{noun} {path} does not exist{relative}; \\ separates folders on Windows "
                    "only (here it is part of a name)", "write the path with / in {where}, "
                    "which works on every system",
                    forward if resolve_path(forward, start).exists() else None)
        if marker.names:
            close = difflib.get_close_matches(value, list(marker.names), n=1)
            if close:
                return f"{noun} {path} does not exist", "correct {where}", close[0]
        folder = path.parent
        also = "" if folder.is_dir() else f": its folder {folder} does not exist either"
        return (f"{noun} {path} does not exist{also}{relative}", "correct {where}",
                _suggestion(value, path, start, marker))
    if marker.kind == "file" and path.is_dir():
        return (f"{path} is a folder, not a file{relative}",
                "correct {where} to name a file in it", None)
    if marker.kind == "folder" and not path.is_dir():
        return (f"{path} is a file, not a folder{relative}",
                "correct {where} to name the folder that holds the files", None)
    if path.is_file():
        if not marker.allow_empty and path.stat().st_size == 0:
            return (f"file {path} is empty (0 bytes: an interrupted copy or export?)",
                    "put the file with its data there, or correct {where}", None)
        if not os.access(path, os.R_OK):
            return (f"file {path} cannot be read (no permission)",
                    "change its permissions, or correct {where}", None)
    elif not os.access(path, os.R_OK | os.X_OK):
        return (f"folder {path} cannot be read (no permission)",
                "change its permissions, or correct {where}", None)
    return None


_MAX_ENTRIES = 5000
"""Entries of a folder compared with a mistyped name at most (a huge folder is skipped)."""


def _close_entry(folder: Path, name: str, want_folder: bool | None) -> str | None:
    """The entry of ``folder`` closest to ``name`` (a difference of case first), of the kind
    wanted (a folder, a file, or either for None)."""
    try:
        with os.scandir(folder) as entries:
            names = []
            for i, entry in enumerate(entries):
                if i >= _MAX_ENTRIES:
                    return None
                if want_folder is None or entry.is_dir() == want_folder:
                    names.append(entry.name)
    except OSError:
        return None
    same = [n for n in names if n.lower() == name.lower()]
    if same:
        return same[0]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    if not close or _digits_apart(name, close[0]):
        return None
    return close[0]


def _digits_apart(one: str, other: str) -> bool:
    """Whether two names differ only in their digits (``budget_2019.csv`` and
    ``budget_2018.csv``, ``band_30.tif`` and ``band_70.tif``): another year or band, not a
    typo, so never suggested."""
    return re.sub(r"\d", "", one) == re.sub(r"\d", "", other)


def _suggestion(value: str, path: Path, start: Path, marker: InputPath) -> str | None:
    """An existing path close to the missing one, written as ``value`` was (relative to the
    same folder, or absolute): each missing part replaced by the closest name in its
    folder."""
    parts = path.parts
    current = Path(parts[0])
    changed = False
    for i, part in enumerate(parts[1:], start=1):
        step = current / part
        if not step.exists():
            last = i == len(parts) - 1
            want = None if not last or marker.kind == "any" else marker.kind == "folder"
            if not last:
                want = True
            close = _close_entry(current, part, want)
            if close is None:
                return None
            step, changed = current / close, True
        current = step
    if not changed or not current.exists():
        return None
    if home_path(value).is_absolute():
        return str(current)
    try:
        return Path(os.path.relpath(current, start)).as_posix()
    except ValueError:  # another drive (Windows)
        return str(current)
