"""Pydantic validation errors as users read them: a field path and a plain message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def field_path(loc: Sequence[Any]) -> str:
    """Pydantic's error location as a field path: ('slos', 1, 'sli') -> `slos[1].sli`.

    Stack config and SLO spec errors both name fields this way, so a user reads one notation.
    """
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        else:
            out += ("." if out else "") + str(item)
    return out


# Pydantic prefixes the messages of custom validators; users need only the reason.
_MESSAGE_PREFIXES = ("Value error, ", "Assertion failed, ")


def error_message(error: Mapping[str, Any]) -> str:
    """The message of one pydantic error without pydantic's `Value error, ` prefix."""
    message = str(error["msg"])
    for prefix in _MESSAGE_PREFIXES:
        message = message.removeprefix(prefix)
    return message
