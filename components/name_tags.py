"""Tags of a component's children that carry a `Name` derived from the component name."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from reliability_stack.resource_tags import standard_tags


class NameTags:
    """Call with a suffix for the tags of one child: `Name` `<component>-<suffix>` and the standard tags.

    The console shows `Name`, so every child of e.g. `orders-web` reads `orders-web-alb`,
    `orders-web-asg`; the stack and service tags come from `standard_tags`.
    """

    def __init__(self, name: str, service: str, extra: Mapping[str, str] | None = None) -> None:
        self._name = name
        self._base = standard_tags(pulumi.get_stack(), service, extra)

    def __call__(self, suffix: str) -> dict[str, str]:
        return {"Name": f"{self._name}-{suffix}", **self._base}
