"""Readable names of params' type annotations, for ``mlstat components`` and the pipeline
reference (``list[str]``, ``"balanced" | none``)."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel


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
