"""The YAML users write (the project file, stack config, SLO specs), parsed one way.

PyYAML built with libyaml (the wheels are) parses through `CSafeLoader` about nine times
faster than through the pure-Python `SafeLoader`, and every preview reads these files.
Both build the same plain data: the safe constructor runs in Python either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from reliability_stack.errors import InputError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, *, file: str | Path, error: type[InputError]) -> Any:
    """The one document in `text` (None when empty); malformed YAML raises `error` naming file and line."""
    with _malformed_as(error, file):
        return yaml.load(text, Loader=_LOADER)


def parse_yaml_documents(text: str, *, file: str | Path, error: type[InputError]) -> list[Any]:
    """Every document in `text`, as `parse_yaml` reads one."""
    with _malformed_as(error, file):
        return list(yaml.load_all(text, Loader=_LOADER))


@contextlib.contextmanager
def _malformed_as(error: type[InputError], file: str | Path) -> Iterator[None]:
    try:
        yield
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "document"
        raise error(f"malformed YAML ({getattr(exc, 'problem', None) or exc})", file=file, field=where) from None
