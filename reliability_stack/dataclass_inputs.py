"""Rebuild a component's typed args from the plain dictionary a Pulumi provider receives.

The component provider (`provider/`) hands a component its inputs as nested dicts with
snake_case keys; components are written against `@dataclass` args. `build_dataclass`
turns one into the other following the dataclass's type hints, so a component is called
the same way from Python and from any other Pulumi language.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from enum import Enum
from typing import Any, TypeVar

from reliability_stack.errors import InputError

T = TypeVar("T")


def build_dataclass(cls: type[T], value: Any, *, path: str = "args") -> T:
    """An instance of the dataclass `cls` from `value` (an instance already, or a mapping)."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise InputError(f"expected an object for {cls.__name__}, got {type(value).__name__}", field=path)
    hints = field_types(cls)
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(value) - fields)
    if unknown:
        raise InputError(f"unknown argument {unknown[0]!r} for {cls.__name__}", field=f"{path}.{unknown[0]}")
    kwargs = {key: _convert(hints[key], item, f"{path}.{key}") for key, item in value.items() if item is not None}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise InputError(str(exc), field=path) from None


def field_types(cls: type) -> dict[str, Any]:
    """Annotations of `cls` and its bases, with string annotations evaluated.

    Not `typing.get_type_hints`: `pulumi.Input[T]` holds a forward reference to `Output[T]`
    that cannot be evaluated outside the pulumi package.
    """
    annotations: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        annotations.update(inspect.get_annotations(klass, eval_str=True))
    return annotations


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        # Optional[X] converts as X; a pulumi.Input[...] union is passed through untouched.
        return _convert(members[0], value, path) if len(members) == 1 else value
    if hint is int and isinstance(value, float) and value.is_integer():
        # Numbers travel as floats over gRPC, and the SDK's integer mapping keeps the float.
        return int(value)
    if origin is typing.Annotated:
        return _convert(typing.get_args(hint)[0], value, path)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return build_dataclass(hint, value, path=path)
    if isinstance(hint, type) and hasattr(hint, "model_validate") and isinstance(value, dict):
        return hint.model_validate(value)  # a pydantic model (the stack config models)
    if isinstance(hint, type) and issubclass(hint, Enum) and not isinstance(value, hint):
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(repr(member.value) for member in hint)
            raise InputError(f"{value!r} is not one of {allowed}", field=path) from None
    if origin is list and isinstance(value, list | tuple):
        (item_hint,) = typing.get_args(hint) or (Any,)
        return [_convert(item_hint, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if origin is tuple and isinstance(value, list | tuple):
        item_hints = typing.get_args(hint)
        if len(item_hints) == 2 and item_hints[1] is Ellipsis:
            return tuple(_convert(item_hints[0], item, f"{path}[{i}]") for i, item in enumerate(value))
        return tuple(_convert(h, item, f"{path}[{i}]") for i, (h, item) in enumerate(zip(item_hints, value, strict=False)))
    if origin is dict and isinstance(value, dict):
        _, item_hint = typing.get_args(hint) or (str, Any)
        return {key: _convert(item_hint, item, f"{path}.{key}") for key, item in value.items()}
    return value
