"""Shared plumbing of the three spec loaders: reading YAML documents, pydantic field types
for durations and thresholds, and turning validation errors into one `SpecError` that
names the file and the field path (`slos[1].sli.latency.threshold`)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from reliability_stack.errors import SpecError
from reliability_stack.slo.durations import parse_duration
from reliability_stack.validation_errors import error_message, field_path
from reliability_stack.yaml_input import parse_yaml_documents


class SpecModel(BaseModel):
    """Base of the parse models: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def require_exactly_one(model: BaseModel, *names: str, note: str = "") -> None:
    """Raise ValueError (in a model validator: a field error) unless exactly one of `names` is set.

    The spec formats all offer alternative ways to say one thing; naming every alternative
    in the message tells the author which keys to choose from.
    """
    if sum(getattr(model, name) is not None for name in names) != 1:
        alternatives = f"{', '.join(names[:-1])} or {names[-1]}"
        raise ValueError(f"set exactly one of {alternatives}" + (f" ({note})" if note else ""))


def exactly_one_of(*names: str, note: str = "") -> Any:
    """A model validator requiring exactly one of `names`; assign it in the class body.

    `_one_kind = exactly_one_of("availability", "latency")` reads as the rule it is.
    """
    def check(model: BaseModel) -> BaseModel:
        require_exactly_one(model, *names, note=note)
        return model

    return model_validator(mode="after")(check)


def _duration(value: Any) -> int:
    return parse_duration(value)


def _latency_seconds(value: Any) -> float:
    """`300ms`, `0.3s`, `1s` or a bare number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a latency like 300ms or 0.3s, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*", str(value))
        if not match:
            raise ValueError(f"expected a latency like 300ms or 0.3s, got {value!r}")
        seconds = float(match.group(1)) / (1000.0 if match.group(2) == "ms" else 1.0)
    if seconds <= 0:
        raise ValueError(f"a latency threshold must be positive, got {value!r}")
    return seconds


def _percent(value: Any) -> float:
    """`2%` or `2` -> 2.0 (percent)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a percentage, got {value!r}")
    text = str(value).strip()
    if text.endswith("%"):
        text = text[:-1]
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a percentage like 2% or 99.9, got {value!r}") from None


Duration = Annotated[int, BeforeValidator(_duration)]
"""Seconds, written in the spec as `5m`, `1h`, `28d`."""
LatencySeconds = Annotated[float, BeforeValidator(_latency_seconds)]
"""Seconds, written in the spec as `300ms` or `0.3s`."""
Percent = Annotated[float, BeforeValidator(_percent)]


def spec_error_from(exc: ValidationError, file: str, prefix: str = "") -> SpecError:
    """The first pydantic error as a SpecError naming file and field path."""
    errors = exc.errors()
    # A typo shows up as an unknown key plus a missing one; the unknown key is the useful report.
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = [part for part in first["loc"] if not _is_union_tag(part)]
    path = field_path(loc)
    if prefix:
        path = f"{prefix}.{path}" if path and not path.startswith("[") else f"{prefix}{path}"
    message = error_message(first)
    if first["type"] == "extra_forbidden":
        missing = [e["loc"][-1] for e in errors if e["type"] == "missing" and e["loc"][:-1] == first["loc"][:-1]]
        close = difflib.get_close_matches(str(first["loc"][-1]), [str(m) for m in missing], n=1)
        message = f"unknown field (did you mean {close[0]!r}?)" if close else "unknown field"
    elif first["type"] == "missing":
        message = "required field is missing"
    return SpecError(message, file=file, field=path or "document")


def _is_union_tag(part: Any) -> bool:
    # pydantic adds the union member's type name to locations (e.g. 'function-after[...]'); drop it.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float"})


def read_documents(path: Path) -> list[Any]:
    """Every YAML document of a spec file (OpenSLO files may hold several)."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such file", file=file) from None
    except OSError as exc:
        raise SpecError(f"cannot read ({exc.strerror})", file=file) from None
    documents = [doc for doc in parse_yaml_documents(text, file=file, error=SpecError) if doc is not None]
    if not documents:
        raise SpecError("empty spec file", file=file)
    for index, document in enumerate(documents):
        if not isinstance(document, dict):
            where = f"documents[{index}]" if len(documents) > 1 else "document"
            raise SpecError("expected a mapping", file=file, field=where)
    return documents


@dataclass(frozen=True)
class FieldLocator:
    """Maps model field names of one SLO (`objective`, `tiers[1].short`, ...) to where they
    were written in the spec file, so semantic validation can name the spec's field path.

    `fields` maps a model-field prefix to a spec path; the longest matching prefix wins
    and the rest of the key is appended (`tiers` -> `slos[0].tiers` turns `tiers[1].short`
    into `slos[0].tiers[1].short`). `opaque` prefixes map to a path as a whole (for values
    that have no place of their own in the file, e.g. default tiers or an annotation).
    Unknown keys fall back to `default`.
    """

    default: str
    fields: dict[str, str] = field(default_factory=dict)
    opaque: dict[str, str] = field(default_factory=dict)

    def __call__(self, key: str) -> str:
        candidates = [(p, v, True) for p, v in self.fields.items()] + [(p, v, False) for p, v in self.opaque.items()]
        for prefix, path, append in sorted(candidates, key=lambda c: len(c[0]), reverse=True):
            if key == prefix or key.startswith(prefix + ".") or key.startswith(prefix + "["):
                return path + key[len(prefix):] if append else path
        return self.default
