"""CDK-style assertions on captured resources: find by type, match inputs partially."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reliability_stack.preview.capture import CapturedResource


def props_like(actual: Any, expected: Any) -> bool:
    """True when `expected` is a recursive subset of `actual` (dict keys; lists element-wise, same length)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and props_like(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(props_like(a, e) for a, e in zip(actual, expected, strict=True)))
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(actual, int | float) and not isinstance(actual, bool) and float(actual) == float(expected)
    return bool(actual == expected)


def find(resources: Iterable[CapturedResource], type_: str, **expected_props: Any) -> list[CapturedResource]:
    """Resources of `type_` whose inputs partially match `expected_props` (camelCase keys)."""
    return [r for r in resources if r.type == type_ and props_like(r.props, expected_props)]


def one(resources: Iterable[CapturedResource], type_: str, **expected_props: Any) -> CapturedResource:
    """Exactly one matching resource, or an assertion error listing what there was."""
    resources = list(resources)
    matches = find(resources, type_, **expected_props)
    if len(matches) != 1:
        same_type = [r.name for r in resources if r.type == type_]
        raise AssertionError(
            f"expected exactly one {type_} matching {expected_props}, found {len(matches)}; "
            f"resources of that type: {same_type}"
        )
    return matches[0]


def children_of(resources: Iterable[CapturedResource], parent: CapturedResource) -> list[CapturedResource]:
    return [r for r in resources if r.parent == parent.urn]
