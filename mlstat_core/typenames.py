"""Readable names of params' type annotations, for ``mlstat components`` and the pipeline
reference (``list[str]``, ``"balanced" | none``), and the constraints of their values
(``> 0, <= 1``)."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from mlstat_core.inputs import field_marker

CONSTRAINTS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="),
               ("multiple_of", "multiple of"), ("min_length", "length >="),
               ("max_length", "length <="), ("pattern", "matching"))
"""The bounds a params field may declare (``Field(ge=1)``, ``min_length``, ...) and how
``mlstat components`` writes them."""


def type_name(annotation: Any, bar: str = " | ") -> str:
    """A short, readable name of a type annotation (``list[str]``, ``"a" | "b"``, ...);
    ``bar`` joins alternatives (Markdown tables escape it)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is type(None):
        return "none"
    if origin is typing.Literal:
        return bar.join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        parts = [type_name(a, bar) for a in args if a is not type(None)]
        if type(None) in args:
            parts.append("none")
        return bar.join(parts)
    if origin is typing.Annotated:
        return type_name(args[0], bar)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        inner = ", ".join(type_name(a, bar) for a in args)
        return f"{name}[{inner}]" if inner else name
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return "table"
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
                "dict": "table", "list": "list", "Any": "any"}.get(annotation.__name__,
                                                                  annotation.__name__)
    if annotation is typing.Any:
        return "any"
    return str(annotation).replace("typing.", "")


def param_constraints(info: FieldInfo) -> dict[str, Any]:
    """What a params field accepts beyond its type: its bounds (``{"gt": 0, "le": 1}``, as
    :data:`CONSTRAINTS` names them), for a ``Literal`` (``None`` allowed or not) its
    ``choices``, and for an input path (:class:`~mlstat_core.inputs.InputPath`) ``input``:
    ``"file"``, ``"folder"`` or ``"any"``, which must exist; empty when it declares none."""
    found: dict[str, Any] = {}
    for item in info.metadata:
        for attr, _ in CONSTRAINTS:
            value = getattr(item, attr, None)
            if value is not None:
                found[attr] = value
    choices = literal_choices(info.annotation)
    if choices is not None:
        found["choices"] = choices
    marker = field_marker(info)
    if marker is not None:
        found["input"] = marker.kind
    return found


def leaf_types(annotation: Any) -> list[Any]:
    """The members of an annotation, through ``Annotated``, unions and ``Optional``
    (``int | None`` -> ``[int, NoneType]``)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return leaf_types(args[0])
    if origin in (typing.Union, types.UnionType):
        return [leaf for arg in args for leaf in leaf_types(arg)]
    return [annotation]


def literal_choices(annotation: Any) -> list[Any] | None:
    """The values a ``Literal`` annotation allows (``None`` last when it is optional); None
    for an annotation that allows values of other types as well."""
    leaves = leaf_types(annotation)
    literals = [leaf for leaf in leaves if leaf is not type(None)]
    if not literals or any(typing.get_origin(leaf) is not typing.Literal for leaf in literals):
        return None
    choices = [value for leaf in literals for value in typing.get_args(leaf)]
    return choices + [None] if type(None) in leaves else choices


INPUT_TEXT = {"file": "existing file", "folder": "existing folder",
              "any": "existing file or folder"}
"""How ``mlstat components`` and the pipeline reference write an input path's ``input``."""


def constraints_text(constraints: dict[str, Any]) -> str:
    """The bounds of :func:`param_constraints` as text (``> 0, <= 1``), an input path's kind
    (``existing file``); its ``choices`` are left out, as the type's name lists them
    already."""
    parts = [f"{sign} {constraints[attr]}" for attr, sign in CONSTRAINTS if attr in constraints]
    if constraints.get("input") in INPUT_TEXT:
        parts.append(INPUT_TEXT[constraints["input"]])
    return ", ".join(parts)


def nested_params(annotation: Any) -> tuple[type[BaseModel], str] | None:
    """The params model a field holds (``IndexParams``, also in ``IndexParams | None``) and
    how its keys are written: ``.`` for a table, ``[].`` for each table of a list; None for
    other fields (tables keyed by name and tuples are not expanded)."""
    origin = typing.get_origin(annotation)
    if origin is list:
        inner = nested_params(typing.get_args(annotation)[0])
        return (inner[0], "[].") if inner else None
    if origin in (dict, tuple):
        return None
    for kind in (annotation, *typing.get_args(annotation)):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind, "."
        found = nested_params(kind) if typing.get_origin(kind) is list else None
        if found:  # list[Model] | None
            return found
    return None


def param_fields(model: type[BaseModel], skip: tuple[str, ...] = (), prefix: str = "",
                 seen: frozenset[type] = frozenset()) -> list[tuple[str, FieldInfo, bool]]:
    """Each field of a params model as ``(key, info, is_table)``; a table of settings
    (``[model.index]``) is followed by its own fields, keyed ``index.period``
    (``inject[].kind`` for a list of tables), so that none is only in its table's default."""
    fields = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        nested = nested_params(info.annotation)
        expand = nested is not None and nested[0] not in seen | {model}  # no endless recursion
        fields.append((f"{prefix}{name}", info, expand))
        if expand:
            fields += param_fields(nested[0], prefix=f"{prefix}{name}{nested[1]}",
                                   seen=seen | {model})
    return fields


def plain_default(info: FieldInfo) -> Any:
    """A field's default as a pipeline file writes it (a table of settings as a dict, a list
    of them as a list of dicts); None where it is required."""
    if info.is_required():
        return None
    value = info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple) and any(isinstance(v, BaseModel) for v in value):
        return [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    return value
