"""The tags every taggable resource of the stack carries.

Cost reports, the policy pack and incident tooling find a resource's stack and service
through these two keys, so components merge them last: a caller's tags cannot hide them.
"""

from __future__ import annotations

from collections.abc import Mapping

STACK_TAG = "reliability-stack:stack"
SERVICE_TAG = "reliability-stack:service"


def standard_tags(stack: str, service: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's `extra` tags plus the stack and service tags (which win on conflict)."""
    tags = dict(extra or {})
    tags[STACK_TAG] = stack
    tags[SERVICE_TAG] = service
    return tags
